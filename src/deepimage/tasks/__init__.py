"""One LightningModule per task: loss, metrics, optimizers."""
