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
		{"send deadline", []string{"--send-deadline", "3s"}, nil, func(c config.Config) bool { return c.SendDeadline == 3*time.Second }, ""},
		{"send deadline from env", nil, map[string]string{"KONTOR_SEND_DEADLINE": "2s"}, func(c config.Config) bool { return c.SendDeadline == 2*time.Second }, ""},
		{"default send deadline", nil, nil, func(c config.Config) bool { return c.SendDeadline == 10*time.Second }, ""},
		{"short send deadline", []string{"--send-deadline", "10ms"}, nil, nil, "--send-deadline"},
		{"long send deadline", []string{"--send-deadline", "1h"}, nil, nil, "--send-deadline"},
		{"bad node", []string{"--node", "5000"}, nil, nil, "--node"},
		{"endpoint lease default", nil, nil, func(c config.Config) bool { return c.EndpointLease == 20*time.Second }, ""},
		{"endpoint lease from env", nil, map[string]string{"KONTOR_ENDPOINT_LEASE": "45s"}, func(c config.Config) bool { return c.EndpointLease == 45*time.Second }, ""},
		{"endpoint lease flag beats env", []string{"--endpoint-lease", "8s"}, map[string]string{"KONTOR_ENDPOINT_LEASE": "45s"}, func(c config.Config) bool { return c.EndpointLease == 8*time.Second }, ""},
		{"endpoint lease too short", []string{"--endpoint-lease", "1s"}, nil, nil, "--endpoint-lease"},
		{"endpoint lease too long", []string{"--endpoint-lease", "1h"}, nil, nil, "--endpoint-lease"},
		{"bad level", []string{"--log-level", "loud"}, nil, nil, "--log-level"},
		{"empty data", []string{"--data", ""}, nil, nil, "--data"},
		{"stripe from env", []string{"--payments", "stripe"}, map[string]string{"KONTOR_STRIPE_KEY": "sk_test_1", "KONTOR_STRIPE_WEBHOOK_SECRET": "whsec_1", "KONTOR_STRIPE_URL": "http://127.0.0.1:12111"},
			func(c config.Config) bool {
				return c.Payments == "stripe" && c.StripeKey == "sk_test_1" && c.StripeWebhookSecret == "whsec_1" && c.StripeURL == "http://127.0.0.1:12111"
			}, ""},
		{"sandbox delay", []string{"--sandbox-delay", "200ms"}, map[string]string{"KONTOR_SANDBOX_SECRET": "x"}, func(c config.Config) bool {
			return c.SandboxDelay == 200*time.Millisecond && c.SandboxSecret == "x" && c.Payments == "" && c.StripeURL == "https://api.stripe.com"
		}, ""},
		{"stripe without key", []string{"--payments", "stripe"}, nil, nil, "--stripe-key"},
		{"bad provider", []string{"--payments", "paypal"}, nil, nil, "--payments"},
		{"bad stripe key", []string{"--stripe-key", "pk_test_1"}, nil, nil, "--stripe-key"},
		{"bad stripe url", []string{"--stripe-url", "ftp://x"}, nil, nil, "--stripe-url"},
		{"bad sandbox delay", []string{"--sandbox-delay", "0s"}, nil, nil, "--sandbox-delay"},
		{"order hold", nil, map[string]string{"KONTOR_ORDER_HOLD": "10m"}, func(c config.Config) bool { return c.OrderHold == 10*time.Minute }, ""},
		{"trusted proxies", nil, map[string]string{"KONTOR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, func(c config.Config) bool { return c.TrustedProxies == "10.0.0.0/8, 127.0.0.1" }, ""},
		{"bad trusted proxies", []string{"--trusted-proxies", "10.0.0.0/8,proxy.local"}, nil, nil, "--trusted-proxies"},
		{"public only by default", nil, nil, func(c config.Config) bool { return c.AllowNetworks == "" }, ""},
		{"allow networks", []string{"--allow-networks", "10.8.0.0/16, fd00::/8"}, nil, func(c config.Config) bool { return c.AllowNetworks == "10.8.0.0/16, fd00::/8" }, ""},
		{"allow networks from env", nil, map[string]string{"KONTOR_ALLOW_NETWORKS": "127.0.0.0/8"}, func(c config.Config) bool { return c.AllowNetworks == "127.0.0.0/8" }, ""},
		{"dev allows loopback", []string{"--dev"}, nil, func(c config.Config) bool { return c.Dev && c.AllowNetworks == config.DevNetworks }, ""},
		{"dev from env allows loopback", nil, map[string]string{"KONTOR_DEV": "1"}, func(c config.Config) bool { return c.Dev && c.AllowNetworks == config.DevNetworks }, ""},
		{"dev off again", []string{"--dev=false"}, map[string]string{"KONTOR_DEV": "true"}, func(c config.Config) bool { return !c.Dev && c.AllowNetworks == "" }, ""},
		{"dev, then allow networks", []string{"--dev", "--allow-networks", "10.8.0.0/16"}, nil, func(c config.Config) bool { return c.Dev && c.AllowNetworks == "10.8.0.0/16" }, ""},
		{"allow networks, then dev", []string{"--allow-networks", "10.8.0.0/16", "--dev"}, nil, func(c config.Config) bool { return c.Dev && c.AllowNetworks == "10.8.0.0/16" }, ""},
		{"dev with public only", []string{"--dev", "--allow-networks", ""}, nil, func(c config.Config) bool { return c.Dev && c.AllowNetworks == "" }, ""},
		{"dev with allow networks from env", []string{"--dev"}, map[string]string{"KONTOR_ALLOW_NETWORKS": "10.8.0.0/16"}, func(c config.Config) bool { return c.Dev && c.AllowNetworks == "10.8.0.0/16" }, ""},
		{"bad allow networks", []string{"--allow-networks", "10.8.0.0/16,intranet"}, nil, nil, "--allow-networks"},
		{"bad order hold", []string{"--order-hold", "10ms"}, nil, nil, "--order-hold"},
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
