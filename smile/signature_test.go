package smile_test

import (
	"errors"
	"strings"
	"testing"

	"smiledash/smile"
	"smiledash/smile/smiletest"
)

// Vectors from smile-api.md §2.4.
const (
	vectorBody      = `{"id":"et-4f1c0a9e7b2d4c6e8a0b1c2d3e4f5a6b","version":1,"type":"USER_CREATED","createdAt":"2026-03-02T04:15:09Z","data":{"userId":"demotenant-0c7e2a9d4b1f4e6a9c3d5b7e1f2a4c6d"}}`
	vectorSignature = "f5a0c2015a8f3099cfe6474e69680656534f5b3990c7c6f1eff2dbf9b037f75d610294e9df8929ec617f503d53a8a8721fb620ca2e815959a056c45fc5ae7b21"
	vectorNewline   = "53a740083c4f2de218d4d3f4a437660534ccfb531f764fa3b50a00d49552f68fc7075f196e3b569210db78640568fda2ff8caff98e78de23eeafd043a8903dc9"
)

func TestVerify(t *testing.T) {
	secret := []byte(smiletest.FixtureSecret)
	other := []byte("whsec-rotated-in-0002")
	tests := []struct {
		name      string
		secrets   [][]byte
		body      string
		header    string
		wantIndex int
		wantErr   error
	}{
		{"documented vector", [][]byte{secret}, vectorBody, vectorSignature, 0, nil},
		{"trailing newline vector", [][]byte{secret}, vectorBody + "\n", vectorNewline, 0, nil},
		{"newline changes the MAC", [][]byte{secret}, vectorBody + "\n", vectorSignature, -1, smile.ErrSignatureMismatch},
		{"uppercase hex", [][]byte{secret}, vectorBody, strings.ToUpper(vectorSignature), 0, nil},
		{"surrounding space", [][]byte{secret}, vectorBody, " " + vectorSignature + " ", 0, nil},
		{"second secret matches", [][]byte{other, secret}, vectorBody, vectorSignature, 1, nil},
		{"wrong secret", [][]byte{other}, vectorBody, vectorSignature, -1, smile.ErrSignatureMismatch},
		{"tampered body", [][]byte{secret}, strings.Replace(vectorBody, "USER_CREATED", "USER_CREATEd", 1), vectorSignature, -1, smile.ErrSignatureMismatch},
		{"missing header", [][]byte{secret}, vectorBody, "", -1, smile.ErrSignatureMissing},
		{"prefixed header", [][]byte{secret}, vectorBody, "sha512=" + vectorSignature, -1, smile.ErrSignatureMalformed},
		{"short header", [][]byte{secret}, vectorBody, vectorSignature[:64], -1, smile.ErrSignatureMalformed},
		{"not hex", [][]byte{secret}, vectorBody, strings.Repeat("g", 128), -1, smile.ErrSignatureMalformed},
		{"no secrets", nil, vectorBody, vectorSignature, -1, smile.ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smile.Verify(tc.secrets, []byte(tc.body), tc.header)
			if !errors.Is(err, tc.wantErr) || got != tc.wantIndex {
				t.Errorf("got (%d, %v), want (%d, %v)", got, err, tc.wantIndex, tc.wantErr)
			}
		})
	}
}

func TestVerify_FixtureFileBytes(t *testing.T) {
	for typ, want := range map[string]string{
		"USER_CREATED":      "ee5fa7128bc8f0cf7566dc028b1b4fc6cd74a02b7467a518cc7ba0fa7cd74290f7ea24b65c43082bbfb8b0ff8275bce8861dc7d917b40206cdf8409a611dad47",
		"ACCOUNT_CONNECTED": "4bca86b85199cab43b9c14f8805f47a5f328791d0440fb9141c624863271a1d0a54aca3ba14f6f3c9a712b6de6da716a8a080ce55626c73aa6807e815c970a42",
	} {
		if got := smile.SignatureFor([]byte(smiletest.FixtureSecret), smiletest.Event(typ)); got != want {
			t.Errorf("%s: got %s, want %s (was the fixture reformatted?)", typ, got, want)
		}
	}
}
