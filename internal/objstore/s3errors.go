package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// fail describes a failed S3 call on key ("" for the store) and classifies
// it: exitcode.Unavailable when the store could not be reached or failed on
// its side, exitcode.Config when it refused the bucket, the credentials or
// the region, with what to fix; other errors carry no code. A call cut
// short by ctx returns ctx's error, for main to read the cause.
func (s *s3Store) fail(ctx context.Context, op, key string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: %w", op, s.where(key), ctx.Err())
	}
	code, hint := classify(err)
	switch code {
	case exitcode.Unavailable:
		hint = fmt.Sprintf("cannot reach %s (or it is failing): try again later", s.endpoint)
		if s.whenRequired {
			hint = fmt.Sprintf("cannot reach %s (or it is failing): is the S3 server running at that address?", s.endpoint)
		}
	case exitcode.Config:
		hint = strings.ReplaceAll(hint, "{bucket}", strconv.Quote(s.bucket))
	}
	if hint == "" {
		return fmt.Errorf("%s %s: %w", op, s.where(key), err)
	}
	return exitcode.New(code, fmt.Errorf("%s %s: %s: %w", op, s.where(key), hint, err))
}

// What to fix, for the error codes S3 and S3-compatible stores answer with
// when the configuration is wrong; {bucket} stands for the bucket.
var configCodes = map[string]string{
	"NoSuchBucket":       "the bucket {bucket} does not exist: create it, or fix the bucket in the URL",
	"InvalidBucketName":  "{bucket} is not a valid bucket name: fix the bucket in the URL",
	"InvalidAccessKeyId": "the store does not know this access key: check AWS_ACCESS_KEY_ID (or AWS_PROFILE)",
	// versitygw's answer to an unknown access key.
	"XAdminUserNotFound":    "the store does not know this access key: check AWS_ACCESS_KEY_ID (or AWS_PROFILE)",
	"SignatureDoesNotMatch": "the store rejected the signature: check AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and the region",
	"InvalidToken":          "the session token was rejected: check AWS_SESSION_TOKEN (or AWS_PROFILE)",
	"ExpiredToken":          "the session token expired: renew the credentials",
	"AccessDenied": "access to bucket {bucket} was denied: its credentials need s3:ListBucket, s3:GetObject, " +
		"s3:PutObject, s3:AbortMultipartUpload and s3:DeleteObject on this prefix",
	"AllAccessDisabled":            "all access to bucket {bucket} is disabled",
	"AuthorizationHeaderMalformed": "the region is wrong for bucket {bucket}: set it to the bucket's region (AWS_REGION, or the region option)",
	"PermanentRedirect":            "bucket {bucket} is in another region or needs another endpoint: set the region (AWS_REGION, or the region option)",
}

// unavailableCodes are answers that say the store is busy or failing.
var unavailableCodes = map[string]bool{
	"SlowDown": true, "ServiceUnavailable": true, "InternalError": true, "RequestTimeout": true,
}

// classify returns the exit code err calls for (0: none) and, for
// exitcode.Config, what to fix ({bucket} stands for the bucket).
func classify(err error) (int, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if hint, ok := configCodes[ae.ErrorCode()]; ok {
			return exitcode.Config, hint
		}
		if unavailableCodes[ae.ErrorCode()] {
			return exitcode.Unavailable, ""
		}
	}
	// No answer: the request was not sent, or the connection broke. (The
	// SDK wraps this in a response error with status 0.)
	var send *smithyhttp.RequestSendError
	var ne net.Error
	if errors.As(err, &send) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) {
		return exitcode.Unavailable, ""
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch code := status.HTTPStatusCode(); {
		case code >= http.StatusInternalServerError, code == http.StatusTooManyRequests:
			return exitcode.Unavailable, ""
		case code == http.StatusUnauthorized, code == http.StatusForbidden:
			return exitcode.Config, "the store refused these credentials for bucket {bucket}: check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and their permissions"
		case code == http.StatusMovedPermanently:
			return exitcode.Config, configCodes["PermanentRedirect"]
		}
	}
	return 0, ""
}

// notFound reports whether err is S3's answer for a key that does not
// exist (not a bucket that does not).
func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound"
	}
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &status) && status.HTTPStatusCode() == http.StatusNotFound
}
