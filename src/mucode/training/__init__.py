"""Expert iteration: relabelling, generator fine-tuning and the training loop. Importing this
package loads no torch."""
