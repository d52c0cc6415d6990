package gateway

// Push is what became of an entry a commit offered to a connection of this
// node (Hub.Offer): written straight from the commit, or left in the store
// for the connection to pull, and why.
type Push uint8

// What became of an offered entry.
const (
	Pushed      Push = iota // queued on the connection from the commit: no store read
	PushDirty               // the connection already had entries waiting in the store
	PushPulling             // the connection was reading its queue from the store
	PushBehind              // the entry's id was not above what the connection had queued
	PushWindow              // the connection's window of unacknowledged frames was full
	PushQueue               // the connection's frames waiting to be written were at the limit
	PushClosed              // the connection was closing
	NumPush                 // how many outcomes there are
)

var pushNames = [NumPush]string{"pushed", "dirty", "pulling", "behind", "window", "queue", "closed"}

// String is the outcome's label value for metrics.
func (p Push) String() string {
	if p < NumPush {
		return pushNames[p]
	}
	return "unknown"
}
