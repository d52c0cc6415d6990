package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/commerce"
	"github.com/kontor-chat/kontor/internal/consoleauth"
)

// Limits of feed imports through the console.
const (
	maxFeed       = 64 << 20         // bytes of an uploaded feed
	importTimeout = 30 * time.Minute // one import at most
	keepImport    = time.Hour        // a finished import's report stays this long
)

// imports are the feed imports of this node: each runs in a goroutine of
// its own, reads the uploaded file from a temporary copy, and keeps its
// report until keepImport after it ends. Close stops them.
type imports struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	jobs   map[string]*importJob
}

// importJob is one feed import.
type importJob struct {
	ID       string
	Business kontor.ID
	Catalog  commerce.Catalog
	File     string
	Format   string
	Mode     string
	Size     int64
	Started  time.Time
	read     atomic.Int64 // bytes of the file read
	rows     atomic.Int64 // rows read
	done     atomic.Bool

	mu       sync.Mutex // guards the rest once done
	Finished time.Time
	Report   commerce.Report
	Err      string // why the import stopped, in words, or ""
}

// importView is a job as its page shows it.
type importView struct {
	Job         *importJob
	Read, Rows  int64
	Done        bool
	Finished    time.Time
	Report      commerce.Report
	Err         string
	CatalogID   string
	CatalogName string
}

func (j *importJob) view() importView {
	v := importView{Job: j, Read: j.read.Load(), Rows: j.rows.Load(), Done: j.done.Load(), CatalogID: j.Catalog.ID.String(), CatalogName: j.Catalog.Name}
	if v.Done {
		j.mu.Lock()
		v.Finished, v.Report, v.Err = j.Finished, j.Report, j.Err
		j.mu.Unlock()
		v.Read = j.Size
	}
	return v
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func newImports() *imports {
	ctx, cancel := context.WithCancel(context.Background())
	return &imports{ctx: ctx, cancel: cancel, jobs: map[string]*importJob{}}
}

// Close stops the console's running feed imports and waits for them.
func (c *Console) Close() {
	c.feeds.cancel()
	c.feeds.wg.Wait()
}

// job returns a business's import.
func (im *imports) job(biz kontor.ID, id string) *importJob {
	im.mu.Lock()
	defer im.mu.Unlock()
	j := im.jobs[id]
	if j == nil || j.Business != biz {
		return nil
	}
	return j
}

// add registers j unless the business has an import running; it drops
// the reports that are past keeping.
func (im *imports) add(j *importJob, now time.Time) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	for id, o := range im.jobs {
		if !o.done.Load() {
			if o.Business == j.Business {
				return false
			}
			continue
		}
		o.mu.Lock()
		old := now.Sub(o.Finished) > keepImport
		o.mu.Unlock()
		if old {
			delete(im.jobs, id)
		}
	}
	im.jobs[j.ID] = j
	return true
}

// importData fills the import form.
type importData struct {
	shelf
	Format, Mode string
}

func (c *Console) importForm(rq *req, status int, d importData, pg Page) {
	pg.Data = d
	c.render(rq.w, rq.r, status, "import", pg)
}

func (c *Console) importPage(rq *req, s shelf) {
	c.importForm(rq, http.StatusOK, importData{shelf: s, Mode: commerce.ModeUpdate}, rq.page("Import a feed", "catalog"))
}

func (c *Console) startImport(rq *req, s shelf) {
	f := rq.r.PostForm
	d := importData{shelf: s, Format: f.Get("format"), Mode: f.Get("mode")}
	pg := rq.page("Import a feed", "catalog")
	file, head, ferr := rq.r.FormFile("feed")
	if ferr == nil {
		defer file.Close()
	}
	switch {
	case ferr != nil || head.Size == 0:
		pg.Fields = append(pg.Fields, fieldErr("feed", "Choose the feed file to import (CSV, TSV or XML)."))
	case d.Format == "":
		switch strings.ToLower(filepath.Ext(head.Filename)) {
		case ".csv", ".txt":
			d.Format = commerce.FormatCSV
		case ".tsv", ".tab":
			d.Format = commerce.FormatTSV
		case ".xml", ".rss":
			d.Format = commerce.FormatXML
		default:
			pg.Fields = append(pg.Fields, fieldErr("format", "The file's name does not say its format; choose CSV, TSV or XML."))
		}
	case d.Format != commerce.FormatCSV && d.Format != commerce.FormatTSV && d.Format != commerce.FormatXML:
		pg.Fields = append(pg.Fields, fieldErr("format", "Choose the format from the list."))
	}
	if d.Mode != commerce.ModeUpdate && d.Mode != commerce.ModeReplace {
		pg.Fields = append(pg.Fields, fieldErr("mode", "Choose whether the feed adds to the catalog or replaces it."))
	}
	if len(pg.Fields) > 0 {
		pg.Error = "The import has not started. Please correct what is marked below."
		c.importForm(rq, http.StatusBadRequest, d, pg)
		return
	}
	// The request's copy of the file goes when the handler returns: the
	// import reads its own.
	tmp, err := os.CreateTemp("", "kontor-feed-*")
	if err == nil {
		_, err = io.Copy(tmp, file)
		if err == nil {
			_, err = tmp.Seek(0, io.SeekStart)
		}
	}
	if err != nil {
		if tmp != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
		c.fail(rq.w, rq.r, &kontor.Error{Kind: kontor.Internal, Op: "console.import", Err: err})
		return
	}
	now := c.clock.Now()
	j := &importJob{ID: newJobID(), Business: rq.biz.ID, Catalog: s.Catalog, File: head.Filename, Format: d.Format, Mode: d.Mode, Size: head.Size, Started: now}
	if !c.feeds.add(j, now) {
		tmp.Close()
		os.Remove(tmp.Name())
		pg.Error = "Another import of the business is running. Wait for it to finish, then import this feed."
		c.importForm(rq, http.StatusConflict, d, pg)
		return
	}
	c.feeds.wg.Add(1)
	go c.runImport(j, tmp, rq.user)
	rq.redirect("/console/catalog/imports/"+j.ID, "import")
}

// runImport reads the feed into the catalog and keeps the report.
func (c *Console) runImport(j *importJob, f *os.File, u consoleauth.User) {
	defer c.feeds.wg.Done()
	defer os.Remove(f.Name())
	defer f.Close()
	ctx, cancel := context.WithTimeout(c.feeds.ctx, importTimeout)
	defer cancel()
	rep, err := c.shop.Import(ctx, j.Catalog.ID, countingReader{r: f, n: &j.read}, j.Format, j.Mode, func(rows int) { j.rows.Store(int64(rows)) })
	j.mu.Lock()
	j.Finished, j.Report = c.clock.Now(), rep
	if err != nil {
		_, j.Err = c.message(err)
		if ctx.Err() != nil {
			j.Err = "The import was stopped (the server is shutting down, or it took longer than 30 minutes). The rows before the stop were imported."
		}
	}
	j.mu.Unlock()
	j.rows.Store(int64(rep.Rows))
	j.done.Store(true)
	c.log.Info("console feed import", "business", j.Business, "user", u.ID, "catalog", j.Catalog.ID, "rows", rep.Rows,
		"created", rep.Created, "updated", rep.Updated, "deleted", rep.Deleted, "failed", rep.Failed, "err", err)
}

func newJobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (c *Console) importJobPage(rq *req) {
	if !rq.allow(c, consoleauth.EditCatalog) {
		return
	}
	j := c.feeds.job(rq.biz.ID, rq.r.PathValue("id"))
	if j == nil {
		c.errorPage(rq.w, rq.r, http.StatusNotFound, "There is no such import. Its report is kept for an hour after it ends, on the server that ran it.")
		return
	}
	v := j.view()
	title := "Importing " + j.File
	if v.Done {
		title = "Import of " + j.File
	}
	pg := rq.page(title, "catalog")
	if !v.Done {
		pg.Refresh = 1 // the browser reloads the page until the import ends
	} else {
		pg.Flash = "" // "is running" is over
	}
	pg.Data = v
	c.render(rq.w, rq.r, http.StatusOK, "import-job", pg)
}
