package policy

// Finding explains why a server was refused (or a risk) with fixes.
type Finding struct {
	Code    string   `json:"code"`
	Summary string   `json:"summary"`
	Fixes   []string `json:"fixes,omitempty"`
}

func findings(e *evaluator) []Finding { return nil }
