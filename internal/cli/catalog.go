package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kontor-chat/kontor/wire"
)

// raw makes an admin call with a raw body and hands back the response,
// whose status is 2xx (else the API's error is returned).
func (a *adminClient) raw(ctx context.Context, method, path string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(a.server, "/")+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	hc := *a.http
	hc.Timeout = 30 * time.Minute // a feed can be large
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the server: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var ae wire.APIError
		if json.Unmarshal(b, &ae) == nil && ae.Error.Message != "" {
			return nil, fmt.Errorf("%s: %s", ae.Error.Code, ae.Error.Message)
		}
		return nil, fmt.Errorf("server answered %s", resp.Status)
	}
	return resp, nil
}

// catalogImport runs `kontor admin catalog import --catalog ID FILE`: it
// uploads the feed and prints the report (counts and the errors of bad
// rows, each with row, column and reason) as JSON. On a terminal it shows
// the upload's progress on stderr.
func catalogImport(ctx context.Context, env Env, ac *adminClient, out *json.Encoder, sub *flag.FlagSet, args []string) error {
	catalog := sub.String("catalog", "", "the catalog id")
	mode := sub.String("mode", "update", "update: upsert the feed's products, keep the others; replace: also delete the products the feed does not name")
	format := sub.String("format", "", "csv, tsv or xml (default: from the file's extension, else csv)")
	if err := sub.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if *catalog == "" || sub.NArg() != 1 {
		fmt.Fprintln(env.Stderr, "kontor admin catalog import: give --catalog ID and one feed FILE")
		return errUsage
	}
	file := sub.Arg(0)
	if *format == "" {
		*format = "csv"
		switch strings.ToLower(filepath.Ext(file)) {
		case ".tsv", ".txt":
			*format = "tsv"
		case ".xml", ".rss":
			*format = "xml"
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var body io.Reader = f
	clear := func() {}
	if isTerminal(env.Stderr) {
		st, _ := f.Stat()
		p := &progressReader{r: f, w: env.Stderr, total: st.Size(), name: filepath.Base(file)}
		body, clear = p, p.done
	}
	q := url.Values{"format": {*format}, "mode": {*mode}}
	resp, err := ac.raw(ctx, http.MethodPost, "/admin/v1/catalogs/"+url.PathEscape(*catalog)+"/import?"+q.Encode(), body, "application/octet-stream")
	clear() // the report, or the error, goes on a clean line
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var rep map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return fmt.Errorf("reading the import report: %w", err)
	}
	return out.Encode(rep)
}

// catalogExport runs `kontor admin catalog export --catalog ID`: the feed
// goes to stdout.
func catalogExport(ctx context.Context, env Env, ac *adminClient, sub *flag.FlagSet, args []string) error {
	catalog := sub.String("catalog", "", "the catalog id")
	format := sub.String("format", "csv", "csv, tsv or xml")
	if err := sub.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	if *catalog == "" || sub.NArg() > 0 {
		fmt.Fprintln(env.Stderr, "kontor admin catalog export: give --catalog ID (the feed goes to stdout)")
		return errUsage
	}
	resp, err := ac.raw(ctx, http.MethodGet, "/admin/v1/catalogs/"+url.PathEscape(*catalog)+"/export?format="+url.QueryEscape(*format), nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(env.Stdout, resp.Body)
	return err
}

// progressReader shows how much of a file was sent, on one line.
type progressReader struct {
	r     io.Reader
	w     io.Writer
	total int64
	sent  int64
	name  string
	last  time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += int64(n)
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond || err == io.EOF {
		p.last = now
		pct := 100.0
		if p.total > 0 {
			pct = float64(p.sent) * 100 / float64(p.total)
		}
		fmt.Fprintf(p.w, "\rimporting %s: %.1f of %.1f MB sent (%3.0f%%)", p.name, float64(p.sent)/1e6, float64(p.total)/1e6, pct)
		if err == io.EOF {
			fmt.Fprint(p.w, ", waiting for the report…")
		}
	}
	return n, err
}

func (p *progressReader) done() { fmt.Fprint(p.w, "\r\033[K") }
