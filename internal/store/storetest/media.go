package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/media"
)

// testKnownMedia: a record comes back as it was put, with the node that
// keeps its bytes; KnownMedia names exactly the ids asked for that have a
// record, however many are asked for at once, and none once deleted.
func testKnownMedia(t *testing.T, e *env) {
	var kept []string
	for i := range 3 {
		b := media.Blob{ID: "0123456789abcdef0123456789abcd0" + string(rune('a'+i)), Kind: media.Image, Size: 10, OwnerDevice: e.ids.Next(),
			OwnerAccount: e.ids.Next(), ToAccount: e.ids.Next(), Created: t0, Expires: t0.Add(time.Hour), Node: []string{"", "0", "1023"}[i]}
		if err := e.db.PutMedia(e.ctx, b); err != nil {
			t.Fatalf("PutMedia: %v", err)
		}
		if got, err := e.db.Media(e.ctx, b.ID); err != nil || got.Node != b.Node || got.Size != b.Size || got.OwnerDevice != b.OwnerDevice ||
			!got.Created.Equal(t0) || !got.Expires.Equal(b.Expires) || got.Kind != media.Image {
			t.Fatalf("Media = %+v, %v; want %+v", got, err, b)
		}
		kept = append(kept, b.ID)
	}
	ask := []string{kept[0], "ffffffffffffffffffffffffffffffff", kept[2]}
	for i := range 600 { // a long list: one parameter either way
		ask = append(ask, fmt.Sprintf("%032x", i))
	}
	got, err := e.db.KnownMedia(e.ctx, ask)
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{kept[0], kept[2]}) {
		t.Fatalf("KnownMedia = %v, %v; want %v", got, err, []string{kept[0], kept[2]})
	}
	if got, err := e.db.KnownMedia(e.ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("KnownMedia(nothing) = %v, %v", got, err)
	}
	if err := e.db.DeleteMedia(e.ctx, kept[0]); err != nil {
		t.Fatal(err)
	}
	if got, err := e.db.KnownMedia(e.ctx, kept); err != nil || len(got) != 2 || slices.Contains(got, kept[0]) {
		t.Errorf("after deleting %s, KnownMedia = %v, %v", kept[0], got, err)
	}
}
