// Package simulate plays Smile's part in a webhook integration: it produces the
// signed webhook sequences Smile sends for a user's life (user created, accounts
// linked or failed, data delivered, monthly syncs, disconnections, uploaded
// archives) and sends them to a receiver, as a demo feed or as a load generator.
//
// Generation is pure: a Generator with a given seed, tenant and start time always
// produces the same bodies, byte for byte. Every body matches the `*Event` schema
// of Smile's official OpenAPI spec for its type (the tests check this with
// smiletest.ValidateEvent), so the simulator cannot drift from the real sender.
//
// The step-wise builders (AccountConnectedFlow, AccountFailedFlow,
// AccountDisconnected, ArchiveFlow, ...) let the sandbox turn what a person did in
// the sandbox widget into the webhooks Smile would have sent for it.
//
// Run sends whole users' sequences concurrently, in order per user, with a
// fraction of deliveries repeated as Smile's at-least-once delivery does, and
// reports throughput, the status breakdown and latency percentiles. A run dates
// its users in a window that ends now and never sends an event dated after the
// wall clock: by default the sign-ups are spread over the last three days
// (WithWindow), in realtime mode each event waits for its time, and the Random
// load mode dates each event when it is built.
//
// Types that concern no user (RECORD_*, VERIFICATION_*) and the Wink Site
// session types (USER_SESSION_*) are not generated.
package simulate
