package commerce

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kontor-chat/kontor"
)

// Image is a product picture kept by the platform: public catalog
// content, served to anyone who has its address. Its id is random (128
// bits), so no one finds a business's pictures by guessing; a new picture
// gets a new id, so an address always shows the same bytes.
type Image struct {
	ID       string
	Business kontor.ID
	Type     string // image/jpeg, image/png or image/webp
	Data     []byte
	Created  time.Time
}

// MaxImage is the largest picture accepted, in bytes (5 MB).
const MaxImage = 5 << 20

// ImagePath is where the platform serves its pictures: ImagePath + id.
const ImagePath = "/catalog-images/"

// ImageTypes are the content types a picture may have.
var ImageTypes = []string{"image/jpeg", "image/png", "image/webp"}

// CheckImage reads what data is from its first bytes (never from a name
// or a declared type) and returns its content type, or a kontor.Invalid
// error that says what is wrong in words for a person.
func CheckImage(data []byte) (string, error) {
	const op = "commerce.CheckImage"
	switch {
	case len(data) == 0:
		return "", kontor.Errorf(kontor.Invalid, op, "The picture file is empty.")
	case len(data) > MaxImage:
		return "", kontor.Errorf(kontor.Invalid, op, "The picture is too large: it can have at most 5 MB; it has %.1f MB.", float64(len(data))/(1<<20))
	}
	t := http.DetectContentType(data)
	for _, ok := range ImageTypes {
		if t == ok {
			return t, nil
		}
	}
	what := "a file of another kind"
	switch {
	case strings.HasPrefix(t, "image/"):
		what = "a " + strings.ToUpper(strings.TrimPrefix(t, "image/")) + " picture"
	case strings.HasPrefix(t, "text/"):
		what = "text"
	}
	return "", kontor.Errorf(kontor.Invalid, op, "The file is %s, not a picture kontor can show: use a JPEG, PNG or WebP picture.", what)
}

// NewImageID returns a random picture id: 128 bits in hex.
func NewImageID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// ValidImageID says whether id could be a picture id.
func ValidImageID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil && strings.ToLower(id) == id
}

// ImageURL is the address of picture id on the platform at base
// ("https://kontor.example").
func ImageURL(base, id string) string {
	return strings.TrimSuffix(base, "/") + ImagePath + id
}

// PlatformImage returns the id of the picture that address names when it
// is one the platform keeps at base, and ok false for any other address
// (another site's, or another path).
func PlatformImage(base, address string) (id string, ok bool) {
	u, err := url.Parse(address)
	if err != nil {
		return "", false
	}
	b, err := url.Parse(base)
	if err != nil || u.Scheme != b.Scheme || u.Host != b.Host || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	id, found := strings.CutPrefix(u.Path, ImagePath)
	if !found || !ValidImageID(id) {
		return "", false
	}
	return id, true
}
