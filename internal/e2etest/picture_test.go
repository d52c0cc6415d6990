package e2etest

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/kontortest"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// uploadPicture signs in to the console as a new owner of shop and
// uploads pic as the picture of the product retailerID, as a browser's
// form does; it returns the product's image_url from the Business API.
func uploadPicture(t *testing.T, p *kontortest.Process, shop kontortest.Shop, retailerID string, pic []byte) string {
	t.Helper()
	const email, pw = "pictures@blumen.example", "pictures of tulips and roses"
	consoleUser(t, p, shop.WABA, email, "owner", pw)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	page := func(req *http.Request) string {
		t.Helper()
		req.Header.Set("Origin", p.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: HTTP %d\n%s", req.Method, req.URL, resp.StatusCode, b)
		}
		return string(b)
	}
	csrf := func(html string) string {
		m := csrfRE.FindStringSubmatch(html)
		if m == nil {
			t.Fatalf("no CSRF token on the page:\n%s", html)
		}
		return m[1]
	}
	get, _ := http.NewRequest(http.MethodGet, p.URL+"/console/sign-in", nil)
	form := url.Values{"email": {email}, "password": {pw}, "next": {"/console/"}, "csrf": {csrf(page(get))}}
	post, _ := http.NewRequest(http.MethodPost, p.URL+"/console/sign-in", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	page(post)

	var list struct {
		Data []struct {
			ID         string `json:"id"`
			RetailerID string `json:"retailer_id"`
			ImageURL   string `json:"image_url"`
		} `json:"data"`
	}
	find := func() (string, string) {
		kontortest.Call(t, p.URL, http.MethodGet, "/v21.0/"+shop.Catalog+"/products?fields=id,retailer_id,image_url&limit=100", shop.Token, nil, &list)
		for _, d := range list.Data {
			if d.RetailerID == retailerID {
				return d.ID, d.ImageURL
			}
		}
		t.Fatalf("no product %s in %+v", retailerID, list.Data)
		return "", ""
	}
	id, _ := find()
	get, _ = http.NewRequest(http.MethodGet, p.URL+"/console/catalog/products/"+id, nil)
	token := csrf(page(get))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", token)
	fw, _ := mw.CreateFormFile("image", retailerID+".png")
	_, _ = fw.Write(pic)
	_ = mw.Close()
	post, _ = http.NewRequest(http.MethodPost, p.URL+"/console/catalog/products/"+id+"/image", &body)
	post.Header.Set("Content-Type", mw.FormDataContentType())
	if html := page(post); !strings.Contains(html, "The picture is saved") {
		t.Fatalf("uploading the picture of %s:\n%s", retailerID, html)
	}
	_, addr := find()
	if !strings.HasPrefix(addr, p.URL+"/catalog-images/") {
		t.Fatalf("the image_url of %s after the upload is %q", retailerID, addr)
	}
	return addr
}
