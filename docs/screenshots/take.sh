#!/bin/sh
# Takes the console's screenshots: starts a fresh kontor on a loopback port,
# makes a business with an owner, signs in with curl, saves each page's HTML
# and photographs it with headless Chromium at a desktop and a phone size.
# Usage: docs/screenshots/take.sh   (from the repository root; needs chromium, curl, python3)
set -eu
out=$(cd "$(dirname "$0")" && pwd)
port=${PORT:-18631}
hookport=$((port + 1))
work=$(mktemp -d)
trap 'kill $kpid $hpid 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/kontor" ./cmd/kontor
python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.end_headers(); self.wfile.write(b"{\"received\":true}")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$hookport" & hpid=$!
"$work/kontor" serve --data "$work/data" --http "127.0.0.1:$port" --log-level warn & kpid=$!
base="http://127.0.0.1:$port"
for i in $(seq 1 50); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done
admin() { "$work/kontor" admin --server "$base" --data "$work/data" "$@"; }
waba=$(admin business create --name "Blumen Berta" --phone +4930123456 --webhook-url "http://127.0.0.1:$hookport/hook" | python3 -c 'import json,sys; print(json.load(sys.stdin)["waba_id"])')
echo "a long enough password" | admin console user create --business "$waba" --email berta@blumen.example --role owner --password-stdin >/dev/null
echo "a long enough password" | admin console user create --business "$waba" --email ana@blumen.example --role agent --password-stdin >/dev/null
jar="$work/jar"
csrf() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$work/page" | head -1; }
get() { curl -s -b "$jar" -c "$jar" -o "$work/page" "$base$1"; }
get /console/sign-in
shot() { # name, path already in $work/page
  sed "s#href=\"/console/static/console.css\"#href=\"$base/console/static/console.css\"#" "$work/page" > "$work/$1.html"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1200 --screenshot="$out/$1.png" "file://$work/$1.html" 2>/dev/null
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=390,1100 --screenshot="$out/$1-phone.png" "file://$work/$1.html" 2>/dev/null
}
shot sign-in
curl -s -b "$jar" -c "$jar" -o "$work/page" -H "Origin: $base" -L "$base/console/sign-in" \
  --data-urlencode "csrf=$(csrf)" --data-urlencode "email=berta@blumen.example" --data-urlencode "password=a long enough password" --data-urlencode "next=/console/"
curl -s -b "$jar" -c "$jar" -o "$work/page" -H "Origin: $base" -L "$base/console/profile" --data-urlencode "csrf=$(csrf)" \
  --data-urlencode "about=Fresh flowers every day" --data-urlencode "address=Hauptstraße 1, 10827 Berlin" \
  --data-urlencode "description=Bouquets, plants and wedding flowers. Order in the chat before 2 pm for delivery today." \
  --data-urlencode "email=shop@blumen.example" --data-urlencode "website1=https://blumen.example" --data-urlencode "vertical=RETAIL"
shot profile
get /console/numbers; shot numbers
get /console/tokens
curl -s -b "$jar" -c "$jar" -o "$work/page" -H "Origin: $base" "$base/console/tokens" --data-urlencode "csrf=$(csrf)" \
  --data-urlencode "label=shop backend" --data-urlencode "ttl=720h" --data-urlencode "scope=messaging" --data-urlencode "scope=management"
shot tokens
get /console/webhooks
curl -s -b "$jar" -c "$jar" -o /dev/null -H "Origin: $base" "$base/console/webhooks/test" --data-urlencode "csrf=$(csrf)"
sleep 2
get /console/webhooks; shot webhooks
get /console/app; shot app
get /console/account; shot account
get /console/users
curl -s -b "$jar" -c "$jar" -o "$work/page" -H "Origin: $base" "$base/console/users/invite" --data-urlencode "csrf=$(csrf)" \
  --data-urlencode "email=tom@blumen.example" --data-urlencode "role=admin"
shot users
# A form with problems, as a person sees it.
get /console/profile
curl -s -b "$jar" -c "$jar" -o "$work/page" -H "Origin: $base" "$base/console/profile" --data-urlencode "csrf=$(csrf)" \
  --data-urlencode "about=$(python3 -c 'print("a"*150)')" --data-urlencode "website1=blumen" --data-urlencode "email=shop at blumen"
shot profile-errors
echo "screenshots in $out"
