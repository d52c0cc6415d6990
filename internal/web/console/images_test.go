package console_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

var pictureRE = regexp.MustCompile(`<img class="product-picture" src="(/catalog-images/[0-9a-f]{32})"`)

// picture returns the path of the product picture the last page shows.
func (b *browser) picture() string {
	b.t.Helper()
	m := pictureRE.FindStringSubmatch(b.last)
	if m == nil {
		b.t.Fatalf("the page %s shows no product picture:\n%s", b.url, b.last)
	}
	return m[1]
}

// fetch gets path as someone who is not signed in.
func fetch(t *testing.T, base, path string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes(), resp.Header
}

func pictureFile(t *testing.T, format string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{200, 30, 40, 255})
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestProductPictures: an owner uploads a product picture; a file that is
// not one is refused in words; the picture is served to anyone with its
// type, nosniff and a long cache, shown on the product page and the list,
// and is the product's image_url on the Business API; replacing, removing
// and deleting the product delete the bytes; an agent sees but cannot
// upload; another business cannot touch the product; another site's
// address is shown as a link, never loaded.
func TestProductPictures(t *testing.T) {
	kontortest.Backends(t, func(t *testing.T, opts ...kontortest.Option) {
		s := kontortest.Start(t, opts...)
		shop := s.Shop(t, kontortest.ShopOptions{Name: "Blumen Berta", Phone: "+4930123456"})
		other := s.Shop(t, kontortest.ShopOptions{Name: "Gärtnerei Olaf", Phone: "+4930654321"})
		const pw = "tulips and roses in spring"
		consoleUser(t, s, shop.WABA, "berta@blumen.example", "owner", pw)
		consoleUser(t, s, shop.WABA, "ana@blumen.example", "agent", pw)
		consoleUser(t, s, other.WABA, "olaf@garten.example", "owner", pw)

		owner := newBrowser(t, s.URL)
		owner.signIn("berta@blumen.example", pw)
		owner.want("new product", owner.get("/console/catalog/products/new"), 200)
		owner.notSee(`name="image"`) // a new product gets its picture once it is saved
		owner.want("add", owner.post("/console/catalog/products", url.Values{"catalog": {shop.Catalog}, "name": {"Red tulip"},
			"retailer_id": {"tulip-red"}, "currency": {"EUR"}, "price": {"2.50"}, "availability": {"in stock"}, "condition": {"new"}, "inventory": {"5"}}), 200)
		m := productIDRE.FindStringSubmatch(strings.SplitN(owner.url, "?", 2)[0])
		if m == nil {
			t.Fatalf("after adding, the browser is at %s", owner.url)
		}
		page := "/console/catalog/products/" + m[1]
		owner.see("None yet.", `enctype="multipart/form-data"`, "Upload a picture")

		// Not a picture: refused at the field, in words.
		for _, bad := range []struct{ name, content, says string }{
			{"notes.png", "these are not the pixels you are looking for", "The file is text, not a picture kontor can show: use a JPEG, PNG or WebP picture."},
			{"anim.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;", "The file is a GIF picture"},
			{"empty.jpg", "", "The picture file is empty."},
		} {
			owner.want("upload "+bad.name, owner.postFile(page+"/image", nil, "image", bad.name, bad.content), 400)
			owner.see("The picture is not saved.", bad.says, `aria-invalid="true"`)
		}
		owner.want("upload nothing", owner.postFile(page+"/image", nil, "image", "", ""), 400)
		owner.see("Choose a picture file")
		owner.want("upload too large", owner.postFile(page+"/image", nil, "image", "big.png", strings.Repeat("x", 5<<20+100<<10)), 413)
		owner.see("The picture is too large: it can have at most 5 MB.")

		// A PNG: saved, shown, served.
		pngFile := pictureFile(t, "png")
		owner.want("product page", owner.get(page), 200)
		owner.want("upload png", owner.postFile(page+"/image", nil, "image", "tulip.jpg", pngFile), 200)
		owner.see("The picture is saved", `alt="Picture of Red tulip"`, "Replace the picture", "Remove the picture")
		first := owner.picture()
		code, body, h := fetch(t, s.URL, first)
		if code != 200 || h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Cache-Control"), "max-age=31536000") || !bytes.Equal(body, []byte(pngFile)) {
			t.Fatalf("GET %s: %d %v, %d bytes; want the PNG, image/png, nosniff, cached a year", first, code, h, len(body))
		}
		if code, _, _ := fetch(t, s.URL, "/catalog-images/0123456789abcdef0123456789abcdef"); code != 404 {
			t.Errorf("GET of no picture: %d; want 404", code)
		}
		if code, _, _ := fetch(t, s.URL, "/catalog-images/..%2fconsole"); code != 404 {
			t.Errorf("GET of a bad picture id: %d; want 404", code)
		}
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.see(`<img class="thumb" src="` + first + `"`)
		var api struct {
			Data []struct {
				ImageURL string `json:"image_url"`
			} `json:"data"`
		}
		s.Call(t, "GET", "/v21.0/"+shop.Catalog+"/products?fields=image_url", shop.Token, nil, &api)
		if len(api.Data) != 1 || api.Data[0].ImageURL != s.URL+first {
			t.Fatalf("the API's image_url: %+v; want %s", api.Data, s.URL+first)
		}

		// Replaced by a JPEG: a new address; the old one is gone.
		owner.want("product page", owner.get(page), 200)
		owner.want("upload jpeg", owner.postFile(page+"/image", nil, "image", "tulip.png", pictureFile(t, "jpeg")), 200)
		second := owner.picture()
		if second == first {
			t.Fatalf("the replaced picture kept its address %s", first)
		}
		if code, _, h := fetch(t, s.URL, second); code != 200 || h.Get("Content-Type") != "image/jpeg" {
			t.Errorf("GET the JPEG: %d %s", code, h.Get("Content-Type"))
		}
		if code, _, _ := fetch(t, s.URL, first); code != 404 {
			t.Errorf("GET the replaced picture: %d; want 404", code)
		}

		// An agent sees the picture and may not change it.
		agent := newBrowser(t, s.URL)
		agent.signIn("ana@blumen.example", pw)
		agent.want("product page", agent.get(page), 200)
		if agent.picture() != second {
			t.Errorf("the agent sees another picture")
		}
		agent.notSee(`name="image"`, "Remove the picture")
		agent.want("agent upload", agent.postFile(page+"/image", nil, "image", "x.png", pngFile), 403)

		// Another business does not find the product.
		olaf := newBrowser(t, s.URL)
		olaf.signIn("olaf@garten.example", pw)
		olaf.want("catalog", olaf.get("/console/catalog"), 200)
		olaf.want("other's upload", olaf.postFile(page+"/image", nil, "image", "x.png", pngFile), 404)
		olaf.want("catalog", olaf.get("/console/catalog"), 200)
		olaf.want("other's remove", olaf.post(page+"/image/remove", nil), 404)
		if code, _, _ := fetch(t, s.URL, second); code != 200 {
			t.Errorf("after another business's tries, GET the picture: %d", code)
		}

		// Removed: gone from the page and the platform.
		owner.want("product page", owner.get(page), 200)
		owner.want("remove", owner.post(page+"/image/remove", nil), 200)
		owner.see("The picture is removed.", "None yet.")
		if code, _, _ := fetch(t, s.URL, second); code != 404 {
			t.Errorf("GET the removed picture: %d; want 404", code)
		}

		// Another site's address is a link, not an image.
		owner.want("edit", owner.post(page, url.Values{"name": {"Red tulip"}, "retailer_id": {"tulip-red"}, "currency": {"EUR"}, "price": {"2.50"},
			"availability": {"in stock"}, "condition": {"new"}, "image_url": {"https://img.blumen.example/red.jpg"}}), 200)
		owner.see(`<a href="https://img.blumen.example/red.jpg" rel="noopener noreferrer">`)
		owner.notSee(`<img class="product-picture"`)
		owner.want("catalog", owner.get("/console/catalog"), 200)
		owner.notSee(`<img class="thumb"`)

		// Deleting the product deletes its picture.
		owner.want("product page", owner.get(page), 200)
		owner.want("upload again", owner.postFile(page+"/image", nil, "image", "t.png", pngFile), 200)
		third := owner.picture()
		owner.want("delete", owner.post(page+"/delete", url.Values{"confirm": {"yes"}}), 200)
		if code, _, _ := fetch(t, s.URL, third); code != 404 {
			t.Errorf("GET the deleted product's picture: %d; want 404", code)
		}
	})
}
