"""Training a model: configs, curriculum, optimizer and schedule, the step, the loop, run directories."""
