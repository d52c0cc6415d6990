package cloudapi

// MinVersion is the oldest Graph API version clients send (v13.0).
const MinVersion = 13

// ParseVersion says whether seg is a version path segment the public API
// has used or may use: "v" + major.minor with major at least 13 (v13.0 …
// v23.0 and any later vNN.N). The number changes nothing in kontor's
// answers. Leading zeros and signs are refused.
func ParseVersion(seg string) bool {
	if len(seg) < 4 || seg[0] != 'v' {
		return false
	}
	major, rest, ok := number(seg[1:])
	if !ok || len(rest) < 2 || rest[0] != '.' {
		return false
	}
	_, rest, ok = number(rest[1:])
	return ok && rest == "" && major >= MinVersion
}

// number reads a decimal of 1 to 4 digits without a leading zero (except
// "0" itself) from the front of s.
func number(s string) (n int, rest string, ok bool) {
	i := 0
	for i < len(s) && i < 5 && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || i > 4 || (i > 1 && s[0] == '0') {
		return 0, s, false
	}
	return n, s[i:], true
}
