package bizapi

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseGraphFields(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []fieldExpr
	}{
		{"", nil},
		{"id,name", []fieldExpr{{Name: "id"}, {Name: "name"}}},
		{`currency,pricing_analytics.start(1).end(2).granularity(DAILY).dimensions(["COUNTRY","PHONE"])`, []fieldExpr{{Name: "currency"},
			{Name: "pricing_analytics", Mods: []fieldMod{{"start", "1"}, {"end", "2"}, {"granularity", "DAILY"}, {"dimensions", `["COUNTRY","PHONE"]`}}}}},
		{`pricing_analytics.country_codes([DE,"a,b"]) , name`, []fieldExpr{{Name: "pricing_analytics", Mods: []fieldMod{{"country_codes", `[DE,"a,b"]`}}}, {Name: "name"}}},
	} {
		got, err := parseGraphFields(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseGraphFields(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"a(", "a)", "a.b", "a.(1)", "a.b(1)c(2)", `a.b("1)`, "a-b", "a.b(1]", strings.Repeat("a,", 70), strings.Repeat("x", 5000)} {
		if got, err := parseGraphFields(bad); err == nil {
			t.Errorf("parseGraphFields(%q) = %+v, accepted", bad, got)
		}
	}
	if got := argList(`["COUNTRY", 'PHONE' ,]`); !reflect.DeepEqual(got, []string{"COUNTRY", "PHONE"}) {
		t.Errorf("argList: %q", got)
	}
}

// FuzzParseGraphFields: any fields parameter is parsed or refused, never a
// panic; what is parsed names fields by identifiers only, and every
// modifier's argument came from the input.
func FuzzParseGraphFields(f *testing.F) {
	for _, s := range []string{"id,name", `pricing_analytics.start(1).end(2).granularity(DAILY).dimensions(["COUNTRY"])`, "a((b))", `a.b("x,)")`, "a.b([1,2]).c()"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := parseGraphFields(s)
		if err != nil {
			return
		}
		if len(fs) > maxFields {
			t.Fatalf("%d fields", len(fs))
		}
		for _, fe := range fs {
			if !isIdent(fe.Name) || !strings.Contains(s, fe.Name) {
				t.Fatalf("field %q from %q", fe.Name, s)
			}
			for _, m := range fe.Mods {
				if !isIdent(m.Name) || !strings.Contains(s, m.Name+"("+m.Arg+")") {
					t.Fatalf("modifier %+v from %q", m, s)
				}
				_ = argList(m.Arg)
			}
		}
	})
}
