package cloudapi

// isSingleEmoji says whether s is exactly one emoji as people type them: a
// pictograph with optional variation selector and skin tone, several of
// those joined by zero-width joiners (👩‍💻), a flag (two regional
// indicators, or a tag sequence like 🏴󠁧󠁢󠁳󠁣󠁴󠁿), or a keycap (1️⃣). It errs on
// the side of accepting new pictographs: any code point in the emoji
// blocks counts.
func isSingleEmoji(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	rs := []rune(s)
	switch {
	case isRegionalIndicator(rs[0]):
		return len(rs) == 2 && isRegionalIndicator(rs[1])
	case rs[0] == '#' || rs[0] == '*' || (rs[0] >= '0' && rs[0] <= '9'):
		rest := rs[1:]
		if len(rest) > 0 && rest[0] == 0xFE0F {
			rest = rest[1:]
		}
		return len(rest) == 1 && rest[0] == 0x20E3
	case rs[0] == 0x1F3F4 && len(rs) > 2 && isTag(rs[1]):
		for _, r := range rs[1 : len(rs)-1] {
			if !isTag(r) {
				return false
			}
		}
		return rs[len(rs)-1] == 0xE007F
	}
	for i := 0; ; {
		if i >= len(rs) || !isPictograph(rs[i]) {
			return false
		}
		i++
		for i < len(rs) && (rs[i] == 0xFE0F || (rs[i] >= 0x1F3FB && rs[i] <= 0x1F3FF)) {
			i++
		}
		if i == len(rs) {
			return true
		}
		if rs[i] != 0x200D { // zero-width joiner
			return false
		}
		i++
	}
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

func isTag(r rune) bool { return r >= 0xE0020 && r <= 0xE007E }

// pictographs lists the ranges of code points that are emoji on their own
// (or with U+FE0F), from Unicode's emoji data, widened to whole blocks
// above U+1F000 so that new emoji pass.
var pictographs = [][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x23CF, 0x23CF}, {0x23E9, 0x23F3},
	{0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB}, {0x25B6, 0x25B6},
	{0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x27BF}, {0x2934, 0x2935},
	{0x2B05, 0x2B07}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
	{0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297}, {0x3299, 0x3299},
	{0x1F000, 0x1F1E5}, {0x1F200, 0x1FAFF},
}

func isPictograph(r rune) bool {
	for _, p := range pictographs {
		if r >= p[0] && r <= p[1] {
			return true
		}
	}
	return false
}
