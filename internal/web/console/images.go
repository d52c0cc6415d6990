package console

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// Pictures keeps the product pictures the console uploads (internal/store).
type Pictures interface {
	PutCatalogImage(ctx context.Context, im commerce.Image) error
	// CatalogImage returns a picture; kontor.NotFound when there is none.
	CatalogImage(ctx context.Context, id string) (commerce.Image, error)
	// DeleteCatalogImage removes business's picture id, if it is there.
	DeleteCatalogImage(ctx context.Context, business kontor.ID, id string) error
}

// MountImages adds the product picture upload to the product page and
// serves the pictures, to anyone, at commerce.ImagePath.
func (c *Console) MountImages(mux *http.ServeMux, p Pictures) {
	c.pictures = p
	mux.HandleFunc("GET "+commerce.ImagePath+"{id}", c.servePicture)
	mux.Handle("POST /console/catalog/products/{id}/image", c.postFile(commerce.MaxImage, "The picture is too large: it can have at most 5 MB. Save it smaller (as JPEG or WebP) and upload it again.",
		c.withProduct(consoleauth.EditCatalog, c.uploadPicture)))
	mux.Handle("POST /console/catalog/products/{id}/image/remove", c.post(c.withProduct(consoleauth.EditCatalog, c.removePicture)))
}

// servePicture sends a picture: public and cached for a year (a new
// picture gets a new address), never sniffed, never a page.
func (c *Console) servePicture(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if !commerce.ValidImageID(id) {
		http.Error(w, "There is no such picture.", http.StatusNotFound)
		return
	}
	im, err := c.pictures.CatalogImage(r.Context(), id)
	if kontor.KindOf(err) == kontor.NotFound {
		http.Error(w, "There is no such picture.", http.StatusNotFound)
		return
	}
	if err != nil {
		c.log.Error("console picture", "id", id, "err", err)
		http.Error(w, "The picture could not be read. Try again later.", http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", im.Type)
	h.Set("Content-Length", strconv.Itoa(len(im.Data)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodHead {
		_, _ = w.Write(im.Data)
	}
}

// pictureError shows the product page with what is wrong with the picture.
func (c *Console) pictureError(rq *req, f productForm, status int, msg string) {
	pg := rq.page(f.Product.Name, "catalog")
	pg.Error = "The picture is not saved."
	pg.Fields = business.FieldErrors{{Field: "image", Msg: msg}}
	c.productPage(rq, status, f, pg)
}

func (c *Console) uploadPicture(rq *req, p commerce.Product, s shelf) {
	f := c.formOf(s, p)
	file, _, err := rq.r.FormFile("image")
	if err != nil {
		c.pictureError(rq, f, http.StatusBadRequest, "Choose a picture file (JPEG, PNG or WebP, at most 5 MB).")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, commerce.MaxImage+1))
	if err != nil {
		c.pictureError(rq, f, http.StatusBadRequest, "The picture could not be read to its end. Try again.")
		return
	}
	typ, err := commerce.CheckImage(data)
	if err != nil {
		c.pictureError(rq, f, http.StatusBadRequest, kontor.MessageOf(err))
		return
	}
	id, err := commerce.NewImageID()
	if err != nil {
		c.fail(rq.w, rq.r, &kontor.Error{Kind: kontor.Internal, Op: "console.uploadPicture", Err: err})
		return
	}
	if err := c.pictures.PutCatalogImage(rq.r.Context(), commerce.Image{ID: id, Business: rq.biz.ID, Type: typ, Data: data, Created: c.clock.Now()}); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	addr := commerce.ImageURL(c.baseURL(rq.r), id)
	if _, err := c.shop.UpdateProduct(rq.r.Context(), p.ID, commerce.Patch{ImageURL: &addr}); err != nil {
		_ = c.pictures.DeleteCatalogImage(rq.r.Context(), rq.biz.ID, id)
		c.fail(rq.w, rq.r, err)
		return
	}
	c.dropPicture(rq, p.ImageURL)
	c.log.Info("console product picture", "business", rq.biz.ID, "user", rq.user.ID, "product", p.ID, "picture", id, "bytes", len(data))
	rq.redirect("/console/catalog/products/"+p.ID.String(), "image")
}

func (c *Console) removePicture(rq *req, p commerce.Product, _ shelf) {
	none := ""
	if _, err := c.shop.UpdateProduct(rq.r.Context(), p.ID, commerce.Patch{ImageURL: &none}); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.dropPicture(rq, p.ImageURL)
	c.log.Info("console product picture removed", "business", rq.biz.ID, "user", rq.user.ID, "product", p.ID)
	rq.redirect("/console/catalog/products/"+p.ID.String(), "image-removed")
}

// dropPicture deletes the picture a product no longer shows, when it is
// one the business keeps here. A failure leaves only unused bytes behind,
// so it is logged, not shown.
func (c *Console) dropPicture(rq *req, old string) {
	if c.pictures == nil {
		return
	}
	id, ok := commerce.PlatformImage(c.baseURL(rq.r), old)
	if !ok {
		return
	}
	if err := c.pictures.DeleteCatalogImage(rq.r.Context(), rq.biz.ID, id); err != nil {
		c.log.Warn("console picture delete", "business", rq.biz.ID, "picture", id, "err", err)
	}
}

// picture is the address the console shows a product's picture from: the
// path of a picture kept here, or "" for none or another site's (which
// the console never loads).
func (c *Console) picture(r *http.Request, address string) string {
	id, ok := commerce.PlatformImage(c.baseURL(r), address)
	if !ok {
		return ""
	}
	return commerce.ImagePath + id
}
