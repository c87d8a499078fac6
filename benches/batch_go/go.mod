module juhe-rs/benches/batch_go

go 1.19
