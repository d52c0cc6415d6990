package commerce

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
)

// Feed formats.
const (
	FormatCSV = "csv"
	FormatTSV = "tsv"
	FormatXML = "xml"
)

// Import modes: update upserts the feed's products and leaves the others;
// replace also deletes the products the feed does not name.
const (
	ModeUpdate  = "update"
	ModeReplace = "replace"
)

// RowError is one problem of a feed row. Row counts records from 1, the
// header being row 1 in CSV and TSV (as a spreadsheet shows them); in XML
// it is the item's number from 1.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Reason string `json:"reason"`
}

// Report says what an import did.
type Report struct {
	Format  string `json:"format"`
	Mode    string `json:"mode"`
	Rows    int    `json:"rows"`    // data rows (items) read
	Created int    `json:"created"` // new products
	Updated int    `json:"updated"` // products replaced by their feed row
	Deleted int    `json:"deleted"` // products removed (replace mode)
	Failed  int    `json:"failed"`  // rows not imported
	// IgnoredColumns are the columns kontor does not use, reported once.
	IgnoredColumns []string   `json:"ignored_columns,omitempty"`
	Errors         []RowError `json:"errors"`
	// ErrorsLeftOut counts errors beyond MaxReportErrors.
	ErrorsLeftOut int `json:"errors_left_out,omitempty"`
}

// MaxReportErrors bounds the errors a report lists.
const MaxReportErrors = 1000

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d, column %s: %s", e.Row, e.Column, e.Reason)
}

func (r *Report) fail(row int, column, reason string) {
	if len(r.Errors) >= MaxReportErrors {
		r.ErrorsLeftOut++
		return
	}
	r.Errors = append(r.Errors, RowError{Row: row, Column: column, Reason: reason})
}

// columns are the feed columns kontor reads. Others are ignored.
var columns = map[string]bool{
	"id": true, "title": true, "description": true, "availability": true, "condition": true, "price": true,
	"sale_price": true, "link": true, "image_link": true, "brand": true, "item_group_id": true,
	"quantity_to_sell_on_facebook": true, "google_product_category": true, "fb_product_category": true,
	"inventory": true,
}

// exportColumns is the order of columns in an exported feed.
var exportColumns = []string{"id", "title", "description", "availability", "condition", "price", "sale_price", "link",
	"image_link", "brand", "google_product_category", "item_group_id", "quantity_to_sell_on_facebook"}

// fieldColumn names the feed column of a product field, for row errors.
var fieldColumn = map[string]string{
	"retailer_id": "id", "name": "title", "description": "description", "availability": "availability",
	"condition": "condition", "price": "price", "currency": "price", "sale_price": "sale_price", "url": "link",
	"image_url": "image_link", "brand": "brand", "category": "google_product_category",
	"retailer_product_group_id": "item_group_id", "inventory": "quantity_to_sell_on_facebook",
}

// ErrEmptyReplace refuses a replace import of a feed without rows: it would
// empty the catalog.
var ErrEmptyReplace = errors.New("the feed has no rows; a replace import would delete every product (use an update import)")

// rowSource yields feed rows as column → value maps.
type rowSource interface {
	// next returns the next row and its number; io.EOF at the end. A
	// *RowError is a bad row that can be skipped; any other error stops.
	next() (map[string]string, int, error)
	ignored() []string
}

// batch is how many products one transaction upserts.
const batch = 1000

// Import reads a feed into a catalog. Bad rows are reported and skipped;
// good rows are kept. In update mode a row creates its product or changes
// the fields the feed has columns for (a column left out keeps the
// product's value; a column left empty clears it). In replace mode a row
// sets every field of its product, and the products whose retailer id the
// feed does not name are deleted, but only once the whole feed was read
// (a feed that cannot be read to its end deletes nothing); a product whose
// row was bad is kept. progress, if not nil, is called now and then with
// the rows read so far.
func (s *Service) Import(ctx context.Context, catalog kontor.ID, r io.Reader, format, mode string, progress func(rows int)) (Report, error) {
	const op = "commerce.Import"
	rep := Report{Format: format, Mode: mode, Errors: []RowError{}}
	if mode == "" {
		rep.Mode = ModeUpdate
	}
	if rep.Mode != ModeUpdate && rep.Mode != ModeReplace {
		return rep, kontor.Errorf(kontor.Invalid, op, "mode %q is not update or replace", mode)
	}
	if _, err := s.store.Catalog(ctx, catalog); err != nil {
		return rep, err
	}
	var src rowSource
	var err error
	switch format {
	case FormatCSV, FormatTSV:
		src, err = newDelimited(r, format == FormatTSV)
	case FormatXML:
		src = newXMLSource(r)
	default:
		return rep, kontor.Errorf(kontor.Invalid, op, "format %q is not csv, tsv or xml", format)
	}
	if err != nil {
		return rep, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: err.Error()}
	}
	seen := map[string]int{} // retailer id → row
	var pending []Product
	var fields []string // of the pending rows; nil: all (replace mode)
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n, err := s.store.UpsertProducts(ctx, pending, fields)
		if err != nil {
			return err
		}
		rep.Created += n
		rep.Updated += len(pending) - n
		pending = pending[:0]
		return nil
	}
	now := s.clock.Now()
	for {
		row, num, err := src.next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			rep.Rows++
			rep.Failed++
			rep.fail(re.Row, re.Column, re.Reason)
			continue
		}
		if err != nil {
			rep.IgnoredColumns = src.ignored()
			if ferr := flush(); ferr != nil {
				return rep, ferr
			}
			return rep, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: fmt.Sprintf("the feed could not be read past row %d: %v (rows before it were imported; nothing was deleted)", num, err)}
		}
		rep.Rows++
		if progress != nil && rep.Rows%1000 == 0 {
			progress(rep.Rows)
		}
		id := strings.TrimSpace(row["id"])
		if first, dup := seen[id]; dup && id != "" {
			rep.Failed++
			rep.fail(num, "id", fmt.Sprintf("id %q appears in row %d already; the first is kept", id, first))
			continue
		}
		if id != "" {
			seen[id] = num
		}
		p, rerr := productFromRow(row)
		if rerr != nil {
			rep.Failed++
			rep.fail(num, rerr.Column, rerr.Reason)
			continue
		}
		p.ID, p.Catalog, p.Created, p.Updated = s.ids.Next(), catalog, now, now
		if rep.Mode == ModeUpdate {
			// An update changes only the fields the feed has columns for.
			if f := rowFields(row); !slices.Equal(f, fields) {
				if err := flush(); err != nil {
					return rep, err
				}
				fields = f
			}
		}
		pending = append(pending, p)
		if len(pending) >= batch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	rep.IgnoredColumns = src.ignored()
	if err := flush(); err != nil {
		return rep, err
	}
	if progress != nil {
		progress(rep.Rows)
	}
	if rep.Mode == ModeReplace {
		if rep.Rows == 0 {
			return rep, &kontor.Error{Kind: kontor.Invalid, Op: op, Msg: ErrEmptyReplace.Error(), Err: ErrEmptyReplace}
		}
		have, err := s.store.RetailerIDs(ctx, catalog)
		if err != nil {
			return rep, err
		}
		var gone []kontor.ID
		for rid, id := range have {
			if _, ok := seen[rid]; !ok {
				gone = append(gone, id)
			}
		}
		sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
		for len(gone) > 0 {
			n := min(len(gone), batch)
			d, err := s.store.DeleteProducts(ctx, catalog, gone[:n])
			if err != nil {
				return rep, err
			}
			rep.Deleted += d
			gone = gone[n:]
		}
	}
	return rep, nil
}

// columnFields names the product fields each feed column sets.
var columnFields = map[string][]string{
	"title": {"name"}, "description": {"description"}, "availability": {"availability"}, "condition": {"condition"},
	"price": {"price", "currency"}, "sale_price": {"sale_price"}, "link": {"url"}, "image_link": {"image_url"},
	"brand": {"brand"}, "item_group_id": {"retailer_product_group_id"}, "quantity_to_sell_on_facebook": {"inventory"},
	"inventory": {"inventory"}, "google_product_category": {"category"}, "fb_product_category": {"category"},
}

// rowFields lists the product fields a row has columns for, in
// ProductFields' order.
func rowFields(row map[string]string) []string {
	has := map[string]bool{}
	for col := range row {
		for _, f := range columnFields[col] {
			has[f] = true
		}
	}
	out := make([]string, 0, len(has))
	for _, f := range ProductFields {
		if has[f] {
			out = append(out, f)
		}
	}
	return out
}

// productFromRow turns a feed row into a product, or says which column is
// wrong.
func productFromRow(row map[string]string) (Product, *RowError) {
	p := Product{
		RetailerID:   row["id"],
		Name:         row["title"],
		Description:  row["description"],
		Availability: row["availability"],
		Condition:    row["condition"],
		URL:          row["link"],
		ImageURL:     row["image_link"],
		Brand:        row["brand"],
		ItemGroupID:  row["item_group_id"],
		Category:     row["google_product_category"],
	}
	if p.Category == "" {
		p.Category = row["fb_product_category"]
	}
	if strings.TrimSpace(row["price"]) == "" {
		if strings.TrimSpace(p.RetailerID) == "" {
			return p, &RowError{Column: "id", Reason: "required"}
		}
		return p, &RowError{Column: "price", Reason: "required, as an amount and a currency code such as \"9.99 EUR\""}
	}
	price, cur, err := ParsePrice(row["price"])
	if err != nil {
		return p, &RowError{Column: "price", Reason: err.Error()}
	}
	p.Price, p.Currency = price, cur
	if sp := strings.TrimSpace(row["sale_price"]); sp != "" {
		v, c, err := ParsePrice(sp)
		if err != nil {
			return p, &RowError{Column: "sale_price", Reason: err.Error()}
		}
		if c != cur {
			return p, &RowError{Column: "sale_price", Reason: fmt.Sprintf("currency %s differs from the price's %s", c, cur)}
		}
		p.SalePrice = v
	}
	q := strings.TrimSpace(row["quantity_to_sell_on_facebook"])
	col := "quantity_to_sell_on_facebook"
	if q == "" {
		q, col = strings.TrimSpace(row["inventory"]), "inventory"
	}
	if q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 0 || n > MaxInventory {
			return p, &RowError{Column: col, Reason: fmt.Sprintf("%q is not a whole quantity from 0 to %d", q, MaxInventory)}
		}
		p.Inventory = n
	}
	p.Normalize()
	if fe := p.Validate(); fe != nil {
		return p, &RowError{Column: fieldColumn[fe.Field], Reason: fe.Reason}
	}
	return p, nil
}

// delimited reads CSV (comma, or semicolon when the header uses it) and
// TSV feeds.
type delimited struct {
	r      *csv.Reader
	header []string
	skip   []bool // columns not used
	unused []string
	row    int
}

func newDelimited(r io.Reader, tsv bool) (*delimited, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	comma := ','
	if tsv {
		comma = '\t'
	} else {
		head, _ := br.Peek(4096) // less at the end of a short feed
		line, _, _ := bytes.Cut(head, []byte("\n"))
		c, sc, tab := bytes.Count(line, []byte(",")), bytes.Count(line, []byte(";")), bytes.Count(line, []byte("\t"))
		if sc > c && sc >= tab {
			comma = ';'
		} else if tab > c && tab > sc {
			comma = '\t'
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	if tsv {
		cr.LazyQuotes = true
	}
	head, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("the feed is empty: it needs a header row naming its columns (id, title, price…)")
	}
	if err != nil {
		return nil, fmt.Errorf("the header row cannot be read: %v", err)
	}
	d := &delimited{r: cr, row: 1}
	have := map[string]bool{}
	for _, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if have[h] && h != "" {
			return nil, fmt.Errorf("the header names column %q twice", h)
		}
		have[h] = true
		d.header = append(d.header, h)
		d.skip = append(d.skip, !columns[h])
		if !columns[h] && h != "" {
			d.unused = append(d.unused, h)
		}
	}
	for _, need := range []string{"id", "title", "price"} {
		if !have[need] {
			return nil, fmt.Errorf("the header has no %q column (the required columns are id, title and price)", need)
		}
	}
	return d, nil
}

func (d *delimited) ignored() []string { return d.unused }

func (d *delimited) next() (map[string]string, int, error) {
	rec, err := d.r.Read()
	d.row++
	if err == io.EOF {
		return nil, d.row, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, d.row, &RowError{Row: d.row, Reason: "the row cannot be read: " + pe.Err.Error()}
	}
	if err != nil {
		return nil, d.row, err
	}
	if len(rec) != len(d.header) {
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			d.row--
			return d.next() // an empty line
		}
		return nil, d.row, &RowError{Row: d.row, Reason: fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(d.header))}
	}
	row := make(map[string]string, len(rec))
	for i, v := range rec {
		if !d.skip[i] {
			row[d.header[i]] = v
		}
	}
	return row, d.row, nil
}

// gNS is the Google Merchant namespace of XML feeds.
const gNS = "http://base.google.com/ns/1.0"

// xmlSource reads RSS 2.0 feeds with the g: namespace: an <item> per
// product, its fields as <g:id>, <g:title>… (<title>, <link> and
// <description> without a prefix are read too).
type xmlSource struct {
	d      *xml.Decoder
	item   int
	unused map[string]bool
}

func newXMLSource(r io.Reader) *xmlSource {
	d := xml.NewDecoder(r)
	d.Strict = true
	return &xmlSource{d: d, unused: map[string]bool{}}
}

func (x *xmlSource) ignored() []string {
	out := make([]string, 0, len(x.unused))
	for k := range x.unused {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (x *xmlSource) next() (map[string]string, int, error) {
	for {
		tok, err := x.d.Token()
		if err == io.EOF {
			return nil, x.item, io.EOF
		}
		if err != nil {
			return nil, x.item + 1, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "item" {
			continue
		}
		x.item++
		row := map[string]string{}
		for {
			tok, err := x.d.Token()
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, x.item, err
			}
			if ee, ok := tok.(xml.EndElement); ok && ee.Name.Local == "item" {
				return row, x.item, nil
			}
			fe, ok := tok.(xml.StartElement)
			if !ok {
				continue
			}
			var v string
			if err := x.d.DecodeElement(&v, &fe); err != nil {
				return nil, x.item, err
			}
			name := fe.Name.Local
			if fe.Name.Space != gNS && fe.Name.Space != "" {
				x.unused[fe.Name.Local] = true
				continue
			}
			if !columns[name] {
				x.unused[name] = true
				continue
			}
			if fe.Name.Space == "" {
				if _, set := row[name]; set { // g:title wins over title
					continue
				}
			}
			row[name] = v
		}
	}
}

// Export writes a catalog as a feed in format (csv, tsv or xml), in the
// columns Import reads, so that importing it gives the same catalog.
func (s *Service) Export(ctx context.Context, catalog kontor.ID, w io.Writer, format string) error {
	const op = "commerce.Export"
	c, err := s.store.Catalog(ctx, catalog)
	if err != nil {
		return err
	}
	var emit func(rec []string) error
	var done func() error
	switch format {
	case FormatCSV, FormatTSV:
		cw := csv.NewWriter(w)
		if format == FormatTSV {
			cw.Comma = '\t'
		}
		if err := cw.Write(exportColumns); err != nil {
			return err
		}
		emit = cw.Write
		done = func() error { cw.Flush(); return cw.Error() }
	case FormatXML:
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss xmlns:g=\"%s\" version=\"2.0\">\n<channel>\n<title>", gNS)
		_ = xml.EscapeText(bw, []byte(c.Name))
		bw.WriteString("</title>\n")
		emit = func(rec []string) error {
			bw.WriteString("<item>\n")
			for i, col := range exportColumns {
				if rec[i] == "" {
					continue
				}
				fmt.Fprintf(bw, "  <g:%s>", col)
				if err := xml.EscapeText(bw, []byte(rec[i])); err != nil {
					return err
				}
				fmt.Fprintf(bw, "</g:%s>\n", col)
			}
			_, err := bw.WriteString("</item>\n")
			return err
		}
		done = func() error {
			bw.WriteString("</channel>\n</rss>\n")
			return bw.Flush()
		}
	default:
		return kontor.Errorf(kontor.Invalid, op, "format %q is not csv, tsv or xml", format)
	}
	page := Page{Limit: batch}
	for {
		ps, err := s.store.Products(ctx, catalog, page)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := emit(productRecord(p)); err != nil {
				return err
			}
		}
		if len(ps) < page.Limit {
			break
		}
		page.After = ps[len(ps)-1].ID
	}
	return done()
}

// productRecord is a product in exportColumns' order.
func productRecord(p Product) []string {
	sale := ""
	if p.SalePrice != 0 {
		sale = FormatPrice(p.SalePrice, p.Currency)
	}
	return []string{p.RetailerID, p.Name, p.Description, p.Availability, p.Condition, FormatPrice(p.Price, p.Currency), sale,
		p.URL, p.ImageURL, p.Brand, p.Category, p.ItemGroupID, strconv.Itoa(p.Inventory)}
}
