package views

// BaseVM is what every page shell needs.
type BaseVM struct {
	Title string
	// CSSURL is the content-hashed stylesheet URL.
	CSSURL string
}

// ErrorPageVM is a plain error page for people.
type ErrorPageVM struct {
	BaseVM
	Status  int
	Message string
}
