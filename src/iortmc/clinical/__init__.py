"""Clinical set-ups: applicators and shielding discs painted into a phantom, with their sources."""
