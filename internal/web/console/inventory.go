package console

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kontor-chat/kontor"
	"github.com/kontor-chat/kontor/internal/business"
	"github.com/kontor-chat/kontor/internal/commerce"
)

// Page sizes of the inventory pages.
const (
	levelsPerPage = 50
	movesPerPage  = 25
	alertsShown   = 10
)

// inventoryData fills the inventory page.
type inventoryData struct {
	shelf
	Has    bool
	Low    bool // only the products at or below their threshold
	Levels []commerce.StockLevel
	Alerts []commerce.StockLevel // low-stock products, first ones
	More   bool                  // more alerts than shown
	Next   template.URL
}

func (c *Console) inventory(rq *req, s shelf, has bool) {
	q := rq.r.URL.Query()
	d := inventoryData{shelf: s, Has: has, Low: q.Get("low") == "1"}
	pg := rq.page("Inventory", "inventory")
	if has {
		after, _, err := cursors(q)
		var more bool
		if err == nil {
			d.Levels, more, err = c.stock.Levels(rq.r.Context(), s.Catalog.ID, d.Low, after, levelsPerPage)
		}
		if err == nil && !d.Low {
			d.Alerts, d.More, err = c.stock.Levels(rq.r.Context(), s.Catalog.ID, true, 0, alertsShown)
		}
		if err != nil {
			c.fail(rq.w, rq.r, err)
			return
		}
		if more && len(d.Levels) > 0 {
			v := url.Values{"catalog": {s.Catalog.ID.String()}, "after": {d.Levels[len(d.Levels)-1].Product.String()}}
			if d.Low {
				v.Set("low", "1")
			}
			d.Next = pageLink("/console/inventory", v)
		}
	}
	pg.Data = d
	c.render(rq.w, rq.r, http.StatusOK, "inventory", pg)
}

// stockData fills a product's stock page.
type stockData struct {
	shelf
	Product   commerce.Product
	Level     commerce.StockLevel
	Moves     []commerce.StockMove
	Older     template.URL // the link to the next page of the history
	Reasons   []string
	Key       string // the adjustment form's idempotency key
	Delta     string
	Reason    string
	Note      string
	Threshold string
}

func (c *Console) stockPage(rq *req, p commerce.Product, s shelf) {
	c.showStock(rq, p, s, http.StatusOK, stockData{}, rq.page("", "inventory"))
}

// showStock renders product p's stock page with d's form values.
func (c *Console) showStock(rq *req, p commerce.Product, s shelf, status int, d stockData, pg Page) {
	var more bool
	var err error
	d.Level, err = c.stock.Level(rq.r.Context(), p.ID)
	if err == nil {
		var before int64
		if b := rq.r.URL.Query().Get("before"); b != "" {
			if before, err = strconv.ParseInt(b, 10, 64); err != nil || before < 1 {
				err = kontor.Errorf(kontor.Invalid, "console.stock", "The page link is damaged. Go back to the first page.")
			}
		}
		if err == nil {
			d.Moves, more, err = c.stock.History(rq.r.Context(), p.ID, before, movesPerPage)
		}
	}
	if err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	if more && len(d.Moves) > 0 {
		d.Older = pageLink("/console/inventory/"+p.ID.String(), url.Values{"before": {strconv.FormatInt(d.Moves[len(d.Moves)-1].Seq, 10)}})
	}
	d.shelf, d.Product, d.Reasons = s, p, []string{commerce.ReasonReceived, commerce.ReasonDamaged, commerce.ReasonCorrection, commerce.ReasonReturned}
	if d.Key == "" || status == http.StatusOK {
		d.Key = newAdjustKey()
	}
	if d.Threshold == "" && d.Level.Threshold >= 0 {
		d.Threshold = strconv.Itoa(d.Level.Threshold)
	}
	pg.Title = "Stock of " + p.Name
	pg.Data = d
	c.render(rq.w, rq.r, status, "stock", pg)
}

// newAdjustKey is the idempotency key of one adjustment form, so that a
// form sent twice (a double click, a reload) adjusts once.
func newAdjustKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "console-" + hex.EncodeToString(b[:])
}

// reasonWords says what each reason does, for the form.
var reasonWords = map[string]string{
	commerce.ReasonReceived:   "goods came in (adds)",
	commerce.ReasonDamaged:    "broken, spoiled or lost (takes away)",
	commerce.ReasonCorrection: "a count found a difference (either way)",
	commerce.ReasonReturned:   "a customer brought goods back (adds)",
}

// readAdjustment checks the adjustment form in words a person understands.
func readAdjustment(f url.Values, d *stockData) (commerce.Adjustment, business.FieldErrors) {
	d.Delta, d.Reason, d.Note, d.Key = strings.TrimSpace(f.Get("delta")), f.Get("reason"), strings.TrimSpace(f.Get("note")), f.Get("key")
	var errs business.FieldErrors
	a := commerce.Adjustment{Reason: d.Reason, Note: d.Note, Source: commerce.SourceConsole, Key: d.Key}
	sign, known := commerce.AdjustReasons[d.Reason]
	if !known {
		errs = append(errs, fieldErr("reason", "Choose the reason of the change from the list."))
	}
	n, err := strconv.Atoi(strings.TrimPrefix(d.Delta, "+"))
	switch {
	case d.Delta == "":
		errs = append(errs, fieldErr("delta", "Enter how many units change: a whole number such as 12, or -3 to take units away."))
	case err != nil:
		errs = append(errs, fieldErr("delta", fmt.Sprintf("%q is not a whole number. Write the change such as 12, or -3 to take units away.", d.Delta)))
	case n == 0:
		errs = append(errs, fieldErr("delta", "A change of 0 changes nothing. Enter how many units come in or go out."))
	case n > commerce.MaxDelta || n < -commerce.MaxDelta:
		errs = append(errs, fieldErr("delta", fmt.Sprintf("One adjustment moves at most %d units either way.", commerce.MaxDelta)))
	case known && sign > 0 && n < 0:
		errs = append(errs, fieldErr("delta", fmt.Sprintf("Stock that is %s is added: enter a positive number, or choose another reason.", d.Reason)))
	case known && sign < 0 && n > 0:
		errs = append(errs, fieldErr("delta", fmt.Sprintf("Stock that is %s is taken away: enter a negative number such as -%d.", d.Reason, n)))
	}
	a.Delta = n
	if len([]rune(d.Note)) > commerce.MaxNote {
		errs = append(errs, fieldErr("note", fmt.Sprintf("The note can have at most %d characters; it has %d.", commerce.MaxNote, len([]rune(d.Note)))))
	} else if strings.ContainsFunc(d.Note, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		errs = append(errs, fieldErr("note", "The note cannot have line breaks or tabs."))
	}
	return a, errs
}

func (c *Console) adjust(rq *req, p commerce.Product, s shelf) {
	var d stockData
	a, errs := readAdjustment(rq.r.PostForm, &d)
	pg := rq.page("", "inventory")
	if len(errs) > 0 {
		pg.Error, pg.Fields = "The stock is not changed. Please correct what is marked below.", errs
		c.showStock(rq, p, s, http.StatusBadRequest, d, pg)
		return
	}
	a.Product, a.By = p.ID, rq.user.Email
	if _, _, err := c.stock.Adjust(rq.r.Context(), a); err != nil {
		var status int
		status, pg.Error = c.message(err)
		var fe *commerce.FieldError
		if errors.As(err, &fe) {
			pg.Error = "The stock is not changed."
			pg.Fields = business.FieldErrors{fieldErr(fieldOfAdjust(fe.Field), "This change is not possible: "+fe.Reason+".")}
		}
		c.showStock(rq, p, s, status, d, pg)
		return
	}
	c.log.Info("console stock adjusted", "business", rq.biz.ID, "user", rq.user.ID, "product", p.ID, "delta", a.Delta, "reason", a.Reason)
	rq.redirect("/console/inventory/"+p.ID.String(), "adjusted")
}

// fieldOfAdjust names the form field of a stock error's field.
func fieldOfAdjust(f string) string {
	if f == "reason" || f == "note" {
		return f
	}
	return "delta"
}

func (c *Console) setThreshold(rq *req, p commerce.Product, s shelf) {
	v := strings.TrimSpace(rq.r.PostForm.Get("threshold"))
	th := commerce.NoThreshold
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > commerce.MaxInventory {
			pg := rq.page("", "inventory")
			pg.Error = "The threshold is not saved."
			pg.Fields = business.FieldErrors{fieldErr("threshold", fmt.Sprintf("Enter the threshold as a whole number from 0 to %d, or leave it empty for no alert.", commerce.MaxInventory))}
			c.showStock(rq, p, s, http.StatusBadRequest, stockData{Threshold: v}, pg)
			return
		}
		th = n
	}
	if err := c.stock.SetThreshold(rq.r.Context(), p.ID, th); err != nil {
		c.fail(rq.w, rq.r, err)
		return
	}
	c.log.Info("console low-stock threshold", "business", rq.biz.ID, "user", rq.user.ID, "product", p.ID, "threshold", th)
	rq.redirect("/console/inventory/"+p.ID.String(), "threshold")
}
