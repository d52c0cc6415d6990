package config_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/kontor-chat/kontor/internal/config"
)

func TestFlagsAndEnv(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(config.Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c config.Config) bool {
			return c.DataDir == "./kontor-data" && c.HTTPAddr == "127.0.0.1:8080" && c.DB == "" && c.NATS == "" && !c.Dev && c.MessageTTL == 720*time.Hour
		}, ""},
		{"env twins", nil, map[string]string{"KONTOR_DATA": "/d", "KONTOR_HTTP": "0.0.0.0:9", "KONTOR_DEV": "true", "KONTOR_DB": "postgres://x/y", "KONTOR_NATS": "nats://a:4222,nats://b:4222", "KONTOR_MESSAGE_TTL": "48h", "KONTOR_NODE": "3"},
			func(c config.Config) bool {
				return c.DataDir == "/d" && c.HTTPAddr == "0.0.0.0:9" && c.Dev && c.DB == "postgres://x/y" && c.MessageTTL == 48*time.Hour && c.Node == 3
			}, ""},
		{"flag beats env", []string{"--data", "/f"}, map[string]string{"KONTOR_DATA": "/e"}, func(c config.Config) bool { return c.DataDir == "/f" }, ""},
		{"secrets only from env", nil, map[string]string{"KONTOR_SMS_TOKEN": "s", "KONTOR_OPERATOR_TOKEN": "o"}, func(c config.Config) bool {
			return c.SMSToken == "s" && c.OperatorToken == "o"
		}, ""},
		{"bad http", []string{"--http", "8080"}, nil, nil, "--http"},
		{"bad db", []string{"--db", "mysql://x"}, nil, nil, "--db"},
		{"bad nats", []string{"--nats", "http://x"}, nil, nil, "--nats"},
		{"bad sms", []string{"--sms-url", "ftp://x"}, nil, nil, "--sms-url"},
		{"short ttl", []string{"--message-ttl", "1s"}, nil, nil, "--message-ttl"},
		{"bad node", []string{"--node", "5000"}, nil, nil, "--node"},
		{"bad level", []string{"--log-level", "loud"}, nil, nil, "--log-level"},
		{"empty data", []string{"--data", ""}, nil, nil, "--data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Defaults()
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c.Flags(fs, func(k string) string { return tt.env[k] })
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := c.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config %+v", c)
			}
		})
	}
}
