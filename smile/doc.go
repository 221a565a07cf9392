// Package smile knows Smile's wire protocol and nothing about our database: the
// webhook envelope and event catalogue, signature verification, the widget
// callback names, and the REST client. Its sub-package fakeapi is the built-in
// sandbox used when no API key is configured.
package smile
