package pfutil

// Balpar is balpar(s, "{}"): the length of the balanced "{...}" group at the start of s,
// or 0 when s does not start with '{' or the group is not closed.
func Balpar(s string) int {
	if s == "" || s[0] != '{' {
		return 0
	}
	level := 1
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '}':
			level--
			if level == 0 {
				return i + 1
			}
		case '{':
			level++
		}
	}
	return 0
}
