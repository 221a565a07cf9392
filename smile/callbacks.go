package smile

// Callback is the name of a Wink Widget callback (smile-api.md §3.3).
type Callback string

// The widget callbacks. Each is posted by our page to the server as a browser claim.
const (
	OnAccountCreated   Callback = "onAccountCreated"
	OnAccountConnected Callback = "onAccountConnected"
	OnAccountRemoved   Callback = "onAccountRemoved"
	OnTokenExpired     Callback = "onTokenExpired"
	OnClose            Callback = "onClose"
	OnAccountError     Callback = "onAccountError"
	OnUploadsCreated   Callback = "onUploadsCreated"
	OnUploadsRemoved   Callback = "onUploadsRemoved"
	OnUIEvent          Callback = "onUIEvent"
)

// Callbacks lists every callback the widget documents.
var Callbacks = []Callback{
	OnAccountCreated, OnAccountConnected, OnAccountRemoved, OnTokenExpired, OnClose,
	OnAccountError, OnUploadsCreated, OnUploadsRemoved, OnUIEvent,
}

// Known reports whether c is a documented callback.
func (c Callback) Known() bool {
	for _, k := range Callbacks {
		if k == c {
			return true
		}
	}
	return false
}

// Close reasons passed to onClose.
const (
	CloseReasonClose = "close" // close icon, top right
	CloseReasonExit  = "exit"  // Done button on the success screen
	CloseReasonError = "error" // Exit button on the error page
)
