package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"smiledash/smile"
)

// Bounds on callback arguments. Smile's ids are well under 100 characters;
// free text (upload metadata) is allowed more, but not without limit.
const (
	maxArgIDLen     = 200
	maxArgStringLen = 2048
	maxArgDepth     = 8
	maxArgItems     = 200
	maxCloseReason  = 32
)

// idFields are the argument fields that hold ids or enum values (smile-api.md
// §3.3): when present they must be strings of at most maxArgIDLen bytes.
var idFields = []string{"userId", "accountId", "providerId", "errorCode", "eventName", "eventTime", "mode", "reason"}

// callbackClaim is what a callback claims, as far as we file it.
type callbackClaim struct {
	userID    string
	accountID string
}

// checkCallbackArgs checks a callback's arguments against what the widget
// passes (smile-api.md §3.3) and returns what they claim. It never rewrites
// them: the caller stores the raw JSON.
func checkCallbackArgs(name smile.Callback, raw json.RawMessage) (callbackClaim, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		switch name {
		case smile.OnTokenExpired, smile.OnClose:
			return callbackClaim{}, nil
		}
		return callbackClaim{}, fmt.Errorf("%s takes an object", name)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return callbackClaim{}, errors.New("args are not JSON")
	}
	if err := checkBounds(v, 0); err != nil {
		return callbackClaim{}, err
	}
	if s, ok := v.(string); ok && name == smile.OnClose {
		if len(s) > maxCloseReason {
			return callbackClaim{}, fmt.Errorf("close reason longer than %d characters", maxCloseReason)
		}
		return callbackClaim{}, nil // onClose(reason), the [EN3] convention
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return callbackClaim{}, fmt.Errorf("%s takes an object", name)
	}
	if err := checkIDFields(obj); err != nil {
		return callbackClaim{}, err
	}
	if r, ok := obj["reason"].(string); ok && len(r) > maxCloseReason {
		return callbackClaim{}, fmt.Errorf("close reason longer than %d characters", maxCloseReason)
	}
	claim := callbackClaim{userID: str(obj["userId"]), accountID: str(obj["accountId"])}
	if name == smile.OnUIEvent {
		for _, key := range []string{"account", "archive"} {
			switch sub := obj[key].(type) {
			case nil:
			case map[string]any:
				if err := checkIDFields(sub); err != nil {
					return callbackClaim{}, fmt.Errorf("%s: %w", key, err)
				}
			default:
				return callbackClaim{}, fmt.Errorf("%s must be an object or null", key)
			}
		}
		if acc, ok := obj["account"].(map[string]any); ok && claim.accountID == "" {
			claim.accountID = str(acc["accountId"])
		}
	}
	return claim, nil
}

func checkIDFields(obj map[string]any) error {
	for _, f := range idFields {
		v, present := obj[f]
		if !present || v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s must be a string", f)
		}
		if len(s) > maxArgIDLen {
			return fmt.Errorf("%s longer than %d characters", f, maxArgIDLen)
		}
	}
	return nil
}

// checkBounds refuses deep nesting, long strings and huge arrays or objects.
func checkBounds(v any, depth int) error {
	if depth > maxArgDepth {
		return fmt.Errorf("nested deeper than %d levels", maxArgDepth)
	}
	switch x := v.(type) {
	case string:
		if len(x) > maxArgStringLen {
			return fmt.Errorf("a string is longer than %d characters", maxArgStringLen)
		}
	case []any:
		if len(x) > maxArgItems {
			return fmt.Errorf("a list has more than %d items", maxArgItems)
		}
		for _, e := range x {
			if err := checkBounds(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if len(x) > maxArgItems {
			return fmt.Errorf("an object has more than %d fields", maxArgItems)
		}
		for k, e := range x {
			if len(k) > maxArgIDLen {
				return fmt.Errorf("a field name is longer than %d characters", maxArgIDLen)
			}
			if err := checkBounds(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
