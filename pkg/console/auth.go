package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Log in", Nav: "login"}
	if r.URL.Query().Get("expired") != "" {
		v.Error = "Your token was refused (expired or revoked): log in again."
	}
	s.render(w, http.StatusOK, "login", v)
}

// login checks the pasted token with a SelfSubjectReview (which any authenticated identity
// may create) and starts a session with it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if crossSite(r) {
		http.Error(w, "refused: the form did not come from this console", http.StatusForbidden)
		return
	}
	token := strings.TrimSpace(r.PostFormValue("token"))
	token = strings.TrimPrefix(token, "Bearer ")
	if token == "" {
		s.render(w, http.StatusBadRequest, "login", view{Title: "Log in", Nav: "login", Error: "Paste a token."})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	user, err := s.whoami(ctx, token)
	if err != nil {
		s.render(w, http.StatusUnauthorized, "login", view{Title: "Log in", Nav: "login", Error: err.Error()})
		return
	}
	csrf, err := randomToken()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	expires := s.now().Add(sessionLifetime)
	value, err := s.sealer.seal(session{Token: token, User: user, CSRF: csrf, Expires: expires})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setSessionCookie(w, value, expires)
	see(w, r, "/clusters")
}

func (s *Server) whoami(ctx context.Context, token string) (string, error) {
	cs, err := s.userClientset(token)
	if err != nil {
		return "", err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return "", fmt.Errorf("the API server does not accept this token")
	case err != nil:
		return "", fmt.Errorf("check the token with the API server: %w", err)
	}
	return review.Status.UserInfo.Username, nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ *request) {
	clearSessionCookie(w)
	see(w, r, "/login")
}
