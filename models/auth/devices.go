package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"smiledash/models"
	"smiledash/models/internal/randtoken"
)

// DeviceCookieMaxAge is how long a device cookie marks a browser as one that
// signed in before (OWASP's device cookies): a year.
const DeviceCookieMaxAge = 365 * 24 * time.Hour

// deviceKeySetting names the HMAC key of device cookies in the settings table,
// so every replica signs and checks with the same key.
const deviceKeySetting = "device_cookie_key"

// maxDeviceTokenLen bounds what is parsed; a real token is about 90 characters.
const maxDeviceTokenLen = 256

// IssueDeviceToken returns a signed device token for a browser that just
// signed in as admin a: "v1.<admin id>.<issued unix>.<device id>.<mac>", the
// MAC (HMAC-SHA256 under the database's device key) covering the rest and the
// admin's email. The device id is random: it names the browser's own throttle.
func (s *Store) IssueDeviceToken(ctx context.Context, a Admin, now time.Time) (string, error) {
	key, err := s.deviceKey(ctx)
	if err != nil {
		return "", err
	}
	id, err := randtoken.New(16)
	if err != nil {
		return "", err
	}
	payload := strings.Join([]string{"v1", strconv.FormatInt(a.ID, 10), strconv.FormatInt(now.Unix(), 10), id}, ".")
	return payload + "." + deviceMAC(key, payload, a.Email), nil
}

// DeviceFor returns the device id of token when it is a device token this
// store issued, within DeviceCookieMaxAge, to the admin who has that email
// now; otherwise "" (a missing, malformed, forged, tampered, expired or
// foreign token is simply no device). Only a database error is an error.
func (s *Store) DeviceFor(ctx context.Context, token, email string, now time.Time) (string, error) {
	parts := strings.Split(token, ".")
	if token == "" || len(token) > maxDeviceTokenLen || len(parts) != 5 || parts[0] != "v1" {
		return "", nil
	}
	adminID, err1 := strconv.ParseInt(parts[1], 10, 64)
	issued, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || parts[3] == "" {
		return "", nil
	}
	key, err := s.deviceKey(ctx)
	if err != nil {
		return "", err
	}
	email = NormalizeEmail(email)
	want := deviceMAC(key, strings.Join(parts[:4], "."), email)
	if !hmac.Equal([]byte(want), []byte(parts[4])) {
		return "", nil
	}
	if age := now.Sub(time.Unix(issued, 0)); age < 0 || age > DeviceCookieMaxAge {
		return "", nil
	}
	a, err := s.AdminByEmail(ctx, email)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case a.ID != adminID:
		return "", nil // the account was deleted and the email reused
	}
	return parts[3], nil
}

func deviceMAC(key []byte, payload, email string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	m.Write([]byte{0})
	m.Write([]byte(NormalizeEmail(email)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// deviceKey is the device cookies' HMAC key, created on first use. It lives in
// the database so that replicas share it.
func (s *Store) deviceKey(ctx context.Context) ([]byte, error) {
	v, err := s.models.Setting(ctx, deviceKeySetting)
	if errors.Is(err, models.ErrNotFound) {
		var fresh [32]byte
		if _, err := rand.Read(fresh[:]); err != nil {
			return nil, fmt.Errorf("auth: device key: %w", err)
		}
		v, err = s.models.SettingOrCreate(ctx, deviceKeySetting, hex.EncodeToString(fresh[:]))
	}
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("auth: device key setting is not 32 hex bytes")
	}
	return key, nil
}
