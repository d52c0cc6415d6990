package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kontor-chat/kontor/internal/cli"
	"github.com/kontor-chat/kontor/internal/kontortest"
)

// TestAdminCatalog runs kontor admin catalog create, import and export
// against a real server.
func TestAdminCatalog(t *testing.T) {
	s := kontortest.Start(t)
	var biz struct {
		WABA string `json:"waba_id"`
	}
	if code := s.Call(t, http.MethodPost, "/admin/v1/businesses", s.Token, map[string]any{"name": "Blumen Anna", "phone": "+4930111111"}, &biz); code != 200 {
		t.Fatalf("business: %d", code)
	}
	run := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		env := cli.Env{Args: append([]string{"admin", "--server", s.URL}, args...), Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(k string) string {
				if k == "KONTOR_OPERATOR_TOKEN" {
					return s.Token
				}
				return ""
			}}
		code := cli.RunEnv(context.Background(), env)
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("catalog", "create", "--business", biz.WABA, "--name", "Blumen")
	var cat map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &cat) != nil || cat["catalog_id"] == "" || cat["name"] != "Blumen" {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	id := cat["catalog_id"].(string)
	if _, _, code := run("catalog", "create"); code == 0 {
		t.Fatal("create without --business succeeded")
	}

	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.tsv")
	if err := os.WriteFile(feed, []byte("id\ttitle\tprice\tavailability\nrose\tRose\t2.99 EUR\tin stock\nbad\tBad\t2,99 EUR\tin stock\ntea\tTea\t1000 JPY\tpreorder\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run("catalog", "import", "--catalog", id, feed)
	var rep struct {
		Format  string `json:"format"`
		Rows    int    `json:"rows"`
		Created int    `json:"created"`
		Failed  int    `json:"failed"`
		Errors  []struct {
			Row    int    `json:"row"`
			Column string `json:"column"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Format != "tsv" || rep.Rows != 3 || rep.Created != 2 || rep.Failed != 1 ||
		len(rep.Errors) != 1 || rep.Errors[0].Row != 3 || rep.Errors[0].Column != "price" || rep.Errors[0].Reason == "" {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}
	if errOut != "" {
		t.Fatalf("progress on a stderr that is no terminal: %q", errOut)
	}
	out, errOut, code = run("catalog", "export", "--catalog", id, "--format", "xml")
	if code != 0 || !strings.Contains(out, "<g:id>rose</g:id>") || !strings.Contains(out, "<g:price>1000 JPY</g:price>") {
		t.Fatalf("export: %d %s %s", code, out, errOut)
	}
	xmlFeed := filepath.Join(dir, "feed.xml")
	if err := os.WriteFile(xmlFeed, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run("catalog", "import", "--catalog", id, "--mode", "replace", xmlFeed)
	if code != 0 || !strings.Contains(out, `"updated":2`) || !strings.Contains(out, `"deleted":0`) {
		t.Fatalf("re-import: %d %s %s", code, out, errOut)
	}
	if _, errOut, code = run("catalog", "import", "--catalog", "999", feed); code == 0 || !strings.Contains(errOut, "no catalog") {
		t.Fatalf("unknown catalog: %d %s", code, errOut)
	}
}
