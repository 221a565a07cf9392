package sandbox

import (
	"slices"
	"strings"

	"smiledash/smile/simulate"
)

// Provider is a data source the sandbox widget offers.
type Provider struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Providers lists the sandbox's providers: the simulator's catalogue, named.
func Providers() []Provider {
	var out []Provider
	for _, p := range simulate.Providers() {
		n := providerNames[p.ID]
		if n.name == "" {
			n = providerName{p.ID, "Other"}
		}
		out = append(out, Provider{ID: p.ID, Name: n.name, Type: n.typ})
	}
	return out
}

type providerName struct{ name, typ string }

var providerNames = map[string]providerName{
	"sss_ph":            {"SSS (Philippines)", "Government"},
	"philhealth_ph":     {"PhilHealth (Philippines)", "Government"},
	"pagibig_ph":        {"Pag-IBIG Fund (Philippines)", "Government"},
	"bpjs_id":           {"BPJS Ketenagakerjaan (Indonesia)", "Government"},
	"cpf_sg":            {"CPF (Singapore)", "Government"},
	"examplepayroll_ph": {"Example Payroll (Philippines)", "Payroll"},
	"grab_driver_ph":    {"Grab Driver (Philippines)", "Gig platform"},
	"upwork":            {"Upwork", "Gig platform"},
}

func knownProvider(id string) bool {
	return slices.ContainsFunc(Providers(), func(p Provider) bool { return p.ID == id })
}

// TestLogin is one of Smile's sandbox test logins (smile-api.md §3.4).
type TestLogin struct {
	Name     string `json:"name"`
	Login    string `json:"login"`
	Mobile   string `json:"mobile"`
	Password string `json:"password"`
}

// TestLogins are the logins that succeed in the sandbox, as Smile documents
// them. Any other login or password fails with INVALID_CREDENTIALS.
func TestLogins() []TestLogin {
	return []TestLogin{
		{"George Palomero Jr.", "gpalomero1234@smileapi.io", "+639559991234", "123456"},
		{"Ryan Lestari", "ryan1234@smileapi.io", "+628119994321", "654321"},
		{"Christina Tan", "christina4321@smileapi.io", "+6599996789", "YGUS1"},
		{"Anisha Bhatia", "anisha98765@smileapi.io", "+919511198765", "123456"},
	}
}

// georgeSSNumber is George's social-security number, also a valid SSS login.
const georgeSSNumber = "3300000008"

// CheckLogin reports whether a login name (e-mail, mobile number, or George's SS
// number) and password are one of the sandbox test logins.
func CheckLogin(login, password string) bool {
	login = trimLogin(login)
	digits := onlyDigits(login)
	for _, t := range TestLogins() {
		match := strings.EqualFold(login, t.Login) ||
			(len(digits) >= 8 && strings.HasSuffix(onlyDigits(t.Mobile), digits)) ||
			(t.Login == "gpalomero1234@smileapi.io" && digits == georgeSSNumber && digits == login)
		if match && password == t.Password {
			return true
		}
	}
	return false
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FileTypes are the archive types the sandbox upload offers (a subset of
// Smile's archive types, smile-api.md §6).
func FileTypes() []string {
	return []string{"PAYSLIP", "TAX_DOCUMENT", "COMPANY_ID", "BACK_STATEMENT", "UTILITY_BILLS"}
}
