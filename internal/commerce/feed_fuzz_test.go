package commerce

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzFeedCSV: the CSV and TSV readers never panic or loop, every row they
// hand out or refuse has a number past the header, and a product made from
// a row is valid.
func FuzzFeedCSV(f *testing.F) {
	f.Add("id,title,price\na,A,1.00 EUR\n", false)
	f.Add("\ufeffid;title;price;sale_price\na;A;1.00 EUR;0.50 EUR\nb;\"B\nC\";2 EUR;\n", false)
	f.Add("id\ttitle\tprice\tquantity_to_sell_on_facebook\na\tA\t1000 JPY\t-1\n", true)
	f.Add("id,title,price\n\"a,A,1.00 EUR\n", false)
	f.Add("id,title,price,link\na,A,1.299,00 EUR,x\n", false)
	f.Fuzz(func(t *testing.T, feed string, tsv bool) {
		src, err := newDelimited(strings.NewReader(feed), tsv)
		if err != nil {
			return
		}
		last := 1
		for i := 0; ; i++ {
			if i > len(feed)+1 {
				t.Fatalf("more rows than bytes in %q", feed)
			}
			row, num, err := src.next()
			if err == io.EOF {
				return
			}
			var re *RowError
			if errors.As(err, &re) {
				if re.Row <= last || re.Reason == "" {
					t.Fatalf("row error %+v after row %d", re, last)
				}
				last = re.Row
				continue
			}
			if err != nil {
				return
			}
			if num <= last {
				t.Fatalf("row %d after row %d", num, last)
			}
			last = num
			p, rerr := productFromRow(row)
			if rerr != nil {
				if rerr.Reason == "" {
					t.Fatalf("row error without a reason: %+v", rerr)
				}
				continue
			}
			if fe := p.Validate(); fe != nil {
				t.Fatalf("a product from a good row is invalid: %v", fe)
			}
		}
	})
}

// FuzzFeedXML: the XML reader never panics or loops, and items come in
// order.
func FuzzFeedXML(f *testing.F) {
	f.Add(`<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>a</g:id><g:title>A</g:title><g:price>1.00 EUR</g:price></item></channel></rss>`)
	f.Add(`<rss><channel><item><title>A</title><link>https://x.example</link><g:id>`)
	f.Add(`<item><id>a</id><title>A &amp; B</title><price>1000 JPY</price><x:y xmlns:x="u">z</x:y></item><item></item>`)
	f.Fuzz(func(t *testing.T, feed string) {
		src := newXMLSource(strings.NewReader(feed))
		last := 0
		for i := 0; ; i++ {
			if i > len(feed)+1 {
				t.Fatalf("more items than bytes in %q", feed)
			}
			row, num, err := src.next()
			if err != nil {
				return
			}
			if num != last+1 {
				t.Fatalf("item %d after %d", num, last)
			}
			last = num
			if p, rerr := productFromRow(row); rerr == nil {
				if fe := p.Validate(); fe != nil {
					t.Fatalf("a product from a good item is invalid: %v", fe)
				}
			}
		}
	})
}
