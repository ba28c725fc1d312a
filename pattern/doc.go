// Package pattern turns a rotlog target into names and periods.
//
// A target is a path that may contain strftime conversions. Without any
// conversion it is an active-file target: lines go to the path itself, and a
// file whose period has ended is renamed to the path, a dot and a suffix (a
// strftime format expanded at the start of the period the file holds). With
// conversions it is a template: lines go to the pattern expanded at the start
// of the current period.
//
// Periods are computed by a Schedule in one time zone and are aligned to the
// clock, never to a start time, so every process that compiles the same
// pattern with the same options agrees on every boundary:
//
//   - S, M and H periods are counted from local midnight (H with interval 6
//     starts at 00, 06, 12 and 18); the last period of a day ends at midnight
//     when the interval does not divide the day.
//   - D periods count civil days since 1970-01-01, W periods whole weeks
//     starting on the chosen weekday, months and years their calendar number,
//     so an interval of 3 months gives quarters.
//
// Periods follow the wall clock. A day, week, month or year starts at the
// first instant the wall clock showed its start, and a second, minute or
// hour at the latest one (up to the instant in question); if the clock
// skipped that moment (a DST gap, a midnight that does not exist), a period
// starts at the instant it jumped over it. So a 23- or 25-hour day is one
// period, also when its midnight is shown twice (America/Havana falls back
// from 01:00 to 00:00), and an hour that is repeated when the clock falls
// back is a second period with the same name: an active file rotates twice
// and the second rename gets a numbered variant; a template appends to the
// same file. Nothing is ever computed with Truncate.
//
// A Pattern recognises exactly the names it produces: Match accepts a path
// only if it has the shape of an expansion (plus an optional numbered variant
// ".N") and, where the conversions
// determine an instant, expanding that instant again gives the same text.
//
// Patterns and Schedules are immutable after Compile and safe for concurrent
// use. The package does no I/O, and knows nothing of compression: a caller
// strips a compressed file's extension before Match.
package pattern
