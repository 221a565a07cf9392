// Package views holds the templ components. They receive plain view-model
// structs, never query, and never format heavily: formatting is in format.go.
package views

//go:generate go tool templ generate
