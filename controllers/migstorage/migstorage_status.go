package migstorage

import (
	"fmt"
	"strings"

	migv1 "github.com/ferrymtc/ferry/api/v1alpha1"
	"github.com/ferrymtc/ferry/pkg/conditions"
)

// ReadyMessage is the message of the Ready condition (MTC's).
const ReadyMessage = "The storage is ready."

// conditionsFor computes every non-durable condition of the storage from what was observed.
func conditionsFor(s *scope) []migv1.Condition {
	if len(s.failures) > 0 {
		return s.failures
	}
	out := []migv1.Condition{conditions.Required(migv1.Ready, "", ReadyMessage)}
	if s.untested != "" {
		out = append(out, conditions.Advisory(migv1.BackupStorageProviderTestSkipped, migv1.NotSupported, fmt.Sprintf(
			"The backup storage settings are valid, but the bucket was not tested: a live test of provider %s is not supported here.", s.untested)))
	}
	return out
}

func invalidProvider(sd side, provider string) migv1.Condition {
	if provider == "" {
		return conditions.Critical(sd.invalidProvider, migv1.NotSet,
			fmt.Sprintf("The `%s` must be: (aws|gcp|azure).", sd.providerField))
	}
	return conditions.Critical(sd.invalidProvider, migv1.NotSupported,
		fmt.Sprintf("The `%s` %q is not supported; it must be: (aws|gcp|azure).", sd.providerField, provider))
}

func secretRefNotSet(sd side) migv1.Condition {
	return conditions.Critical(sd.invalidSecretRef, migv1.NotSet,
		fmt.Sprintf("The `%s` must reference a `secret`.", sd.secretRefField))
}

func secretNotFound(sd side, secret string) migv1.Condition {
	return conditions.Critical(sd.invalidSecretRef, migv1.NotFound,
		fmt.Sprintf("The `%s` must reference a `secret`, subject: %s.", sd.secretRefField, secret))
}

func secretNotAllowed(sd side, err error) migv1.Condition {
	return conditions.Critical(sd.invalidSecretRef, migv1.NotSupported,
		fmt.Sprintf("The `%s` is not allowed: %s.", sd.secretRefField, err))
}

func invalidSettings(sd side, problems []string) migv1.Condition {
	return conditions.Critical(sd.invalidSettings, migv1.NotSupported,
		fmt.Sprintf("The `%s` settings are not valid: %s.", sd.settingsField, strings.Join(problems, "; ")))
}

func testFailed(err error) migv1.Condition {
	return conditions.Critical(migv1.BackupStorageProviderTestFailed, migv1.TestFailed,
		fmt.Sprintf("The backup storage test failed: %s.", strings.TrimSuffix(err.Error(), ".")))
}
