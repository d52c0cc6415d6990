package adminapi

import (
	"net/http"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/gateway"
)

// maxFeed bounds an imported feed file.
const maxFeed = 512 << 20

// mountCatalog adds the routes for catalogs and their feeds.
func (a *API) mountCatalog(mux *http.ServeMux) {
	mux.HandleFunc("POST /admin/v1/catalogs", a.operator(a.createCatalog))
	mux.HandleFunc("POST /admin/v1/catalogs/{id}/import", a.operator(a.importFeed))
	mux.HandleFunc("GET /admin/v1/catalogs/{id}/export", a.operator(a.exportFeed))
}

// CatalogRequest creates a catalog for a business.
type CatalogRequest struct {
	Business kontor.ID `json:"business_id"`
	Name     string    `json:"name,omitempty"`
}

// CatalogInfo describes a catalog.
type CatalogInfo struct {
	ID       kontor.ID `json:"catalog_id"`
	Business kontor.ID `json:"business_id"`
	Name     string    `json:"name"`
}

func (a *API) createCatalog(w http.ResponseWriter, r *http.Request) {
	var req CatalogRequest
	if !gateway.ReadJSON(w, r, a.Log, &req) {
		return
	}
	if req.Business == 0 {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.catalogs", "give the business_id (waba id) the catalog belongs to"))
		return
	}
	c, err := a.Commerce.CreateCatalog(r.Context(), req.Business, req.Name)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	gateway.WriteJSON(w, http.StatusOK, CatalogInfo{ID: c.ID, Business: c.Business, Name: c.Name})
}

// catalogID reads the {id} of the path.
func (a *API) catalogID(w http.ResponseWriter, r *http.Request) (kontor.ID, bool) {
	id, err := kontor.ParseID(r.PathValue("id"))
	if err != nil {
		gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.catalogs", "bad catalog id %q", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// feedFormat reads the format parameter (csv by default).
func (a *API) feedFormat(w http.ResponseWriter, r *http.Request) (string, bool) {
	f := r.URL.Query().Get("format")
	switch f {
	case "":
		return commerce.FormatCSV, true
	case commerce.FormatCSV, commerce.FormatTSV, commerce.FormatXML:
		return f, true
	}
	gateway.WriteError(w, a.Log, kontor.Errorf(kontor.Invalid, "admin.catalogs", "format %q is not csv, tsv or xml", f))
	return "", false
}

// importFeed reads the body as a feed file: ?format=csv|tsv|xml,
// ?mode=update|replace. It answers with the report, bad rows included.
func (a *API) importFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := a.catalogID(w, r)
	if !ok {
		return
	}
	format, ok := a.feedFormat(w, r)
	if !ok {
		return
	}
	body := http.MaxBytesReader(w, r.Body, maxFeed)
	rep, err := a.Commerce.Import(r.Context(), id, body, format, r.URL.Query().Get("mode"), nil)
	if err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	a.Log.Info("catalog feed imported", "catalog", id, "format", format, "mode", rep.Mode, "rows", rep.Rows,
		"created", rep.Created, "updated", rep.Updated, "deleted", rep.Deleted, "failed", rep.Failed)
	gateway.WriteJSON(w, http.StatusOK, rep)
}

// exportFeed writes a catalog as a feed: ?format=csv|tsv|xml.
func (a *API) exportFeed(w http.ResponseWriter, r *http.Request) {
	id, ok := a.catalogID(w, r)
	if !ok {
		return
	}
	format, ok := a.feedFormat(w, r)
	if !ok {
		return
	}
	if _, err := a.Commerce.Catalog(r.Context(), id); err != nil {
		gateway.WriteError(w, a.Log, err)
		return
	}
	ct := map[string]string{commerce.FormatCSV: "text/csv; charset=utf-8", commerce.FormatTSV: "text/tab-separated-values; charset=utf-8",
		commerce.FormatXML: "application/rss+xml; charset=utf-8"}[format]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="catalog-`+id.String()+`.`+format+`"`)
	if err := a.Commerce.Export(r.Context(), id, w, format); err != nil {
		// The status is sent already; the feed ends short.
		a.Log.Error("catalog export", "catalog", id, "err", err)
	}
}
