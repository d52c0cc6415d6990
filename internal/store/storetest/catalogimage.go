package storetest

import (
	"bytes"
	"testing"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// testCatalogImages: a picture comes back byte for byte with its type and
// business; an id is used once; only its own business deletes it.
func testCatalogImages(t *testing.T, e *env) {
	bizA, bizB := e.ids.Next(), e.ids.Next()
	data := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)...)
	im := commerce.Image{ID: "0123456789abcdef0123456789abcdef", Business: bizA, Type: "image/png", Data: data, Created: t0}
	if err := e.db.PutCatalogImage(e.ctx, im); err != nil {
		t.Fatalf("PutCatalogImage: %v", err)
	}
	if err := e.db.PutCatalogImage(e.ctx, commerce.Image{ID: im.ID, Business: bizB, Type: "image/jpeg", Data: []byte{1}, Created: t0}); kontor.KindOf(err) != kontor.Conflict {
		t.Errorf("PutCatalogImage of an id in use = %v; want a conflict", err)
	}
	got, err := e.db.CatalogImage(e.ctx, im.ID)
	if err != nil {
		t.Fatalf("CatalogImage: %v", err)
	}
	if got.ID != im.ID || got.Business != bizA || got.Type != "image/png" || !bytes.Equal(got.Data, data) || !got.Created.Equal(t0) {
		t.Errorf("CatalogImage = %s %v %s %d bytes %v; want %s %v image/png %d bytes %v", got.ID, got.Business, got.Type, len(got.Data), got.Created,
			im.ID, bizA, len(data), t0)
	}
	if _, err := e.db.CatalogImage(e.ctx, "ffffffffffffffffffffffffffffffff"); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("CatalogImage of no picture = %v; want not found", err)
	}
	// Another business cannot delete it.
	if err := e.db.DeleteCatalogImage(e.ctx, bizB, im.ID); err != nil {
		t.Fatalf("DeleteCatalogImage by another business: %v", err)
	}
	if _, err := e.db.CatalogImage(e.ctx, im.ID); err != nil {
		t.Errorf("after another business's delete, CatalogImage = %v; want the picture kept", err)
	}
	if err := e.db.DeleteCatalogImage(e.ctx, bizA, im.ID); err != nil {
		t.Fatalf("DeleteCatalogImage: %v", err)
	}
	if _, err := e.db.CatalogImage(e.ctx, im.ID); kontor.KindOf(err) != kontor.NotFound {
		t.Errorf("after delete, CatalogImage = %v; want not found", err)
	}
	if err := e.db.DeleteCatalogImage(e.ctx, bizA, im.ID); err != nil {
		t.Errorf("deleting again = %v; want no error", err)
	}
}
