//! The facade's integration tests, in one binary (one link): its examples, run against the
//! sandbox as a user's own tests would run them.

mod batch_money;
mod signup;
mod teams;
