package cmdutil

import "strings"

// Environment variables cortexctl reads, in one place. A flag always wins
// over its variable; the variable wins over the default.
const (
	EnvDatabaseURL   = "DATABASE_URL"         // --database-url; libpq's PG* variables also work
	EnvLogFormat     = "CORTEXCTL_LOG_FORMAT" // --log-format
	EnvLogLevel      = "CORTEXCTL_LOG_LEVEL"  // --log-level
	EnvOutput        = "CORTEXCTL_OUTPUT"     // --output
	EnvStripeAPIKey  = "STRIPE_API_KEY"       // secret: environment only, never a flag
	EnvStripeAPIBase = "STRIPE_API_BASE"      // --stripe-api-base

	EnvBackupURL        = "BACKUP_URL"            // --to: s3://bucket/prefix or file:///dir
	EnvS3Endpoint       = "AWS_ENDPOINT_URL_S3"   // --s3-endpoint: R2, MinIO, versitygw
	EnvAWSRegion        = "AWS_REGION"            // --s3-region
	EnvBackupRecipients = "BACKUP_AGE_RECIPIENTS" // --age-recipient: age1… public keys, comma-separated

	EnvAPIAddr             = "API_ADDR"              // --addr of `cortexctl api`
	EnvTrustedProxies      = "API_TRUSTED_PROXIES"   // --trusted-proxies: addresses and CIDR ranges
	EnvRedisURL            = "REDIS_URL"             // secret (may hold a password): environment only
	EnvAdminAPIKey         = "ADMIN_API_KEY"         // secret: environment only; unset turns /admin/ off
	EnvStripeWebhookSecret = "STRIPE_WEBHOOK_SECRET" // secret: environment only (whsec_…)

	// EnvPingURLPrefix + a job's name in capitals with - as _ is the job's
	// dead-man's switch URL (CORTEXCTL_PING_URL_BILLING_OVERAGE,
	// CORTEXCTL_PING_URL_BILLING_GRACE, CORTEXCTL_PING_URL_DB_BACKUP): see
	// EnvPingURL. Secret (the URL holds the check's token): environment only.
	EnvPingURLPrefix = "CORTEXCTL_PING_URL_"
)

// EnvPingURL names the variable holding job's dead-man's switch URL.
func EnvPingURL(job string) string {
	return EnvPingURLPrefix + strings.ToUpper(strings.ReplaceAll(job, "-", "_"))
}

// EnvOr returns the flag's value if it was set, else the variable's, else def.
func EnvOr(flagValue string, changed bool, env func(string) string, name, def string) string {
	if changed {
		return flagValue
	}
	if v := env(name); v != "" {
		return v
	}
	return def
}
