package console

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const (
	sessionCookie = "ferry_session"
	// sessionLifetime bounds a session; the token's own expiry applies too (the API server
	// refuses it and the console asks to log in again).
	sessionLifetime = 8 * time.Hour
)

// session is what the cookie holds, sealed.
type session struct {
	// Token is the user's bearer token, sent to the API server on their behalf.
	Token string `json:"t"`
	// User is the name the API server gave the token (SelfSubjectReview), for display.
	User string `json:"u"`
	// CSRF is the token every form of this session carries.
	CSRF    string    `json:"c"`
	Expires time.Time `json:"e"`
}

// sealer seals sessions with AES-GCM under a key made at start.
type sealer struct{ aead cipher.AEAD }

func newSealer() (*sealer, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(sess session) (string, error) {
	plain, err := json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("session nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

var errNoSession = errors.New("not logged in")

func (s *sealer) open(value string, now time.Time) (session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return session{}, errNoSession
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return session{}, errNoSession
	}
	var sess session
	if err := json.Unmarshal(plain, &sess); err != nil || sess.Token == "" || now.After(sess.Expires) {
		return session{}, errNoSession
	}
	return sess, nil
}

// randomToken is 32 random bytes, base64.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// setSessionCookie stores the sealed session: HttpOnly (no script reads it), Secure (only
// over TLS), SameSite=Strict (no other site's page sends it).
func setSessionCookie(w http.ResponseWriter, value string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
}

// crossSite says whether a POST comes from another site's page: browsers send Sec-Fetch-Site,
// and Origin on POSTs; either naming another origin is refused.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return origin == "null"
	}
	return origin != "https://"+r.Host && origin != "http://"+r.Host
}

// validCSRF compares the form's CSRF token with the session's in constant time.
func validCSRF(sess session, r *http.Request) bool {
	got := r.PostFormValue("csrf")
	return got != "" && hmac.Equal([]byte(got), []byte(sess.CSRF))
}
