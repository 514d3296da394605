"""Prompting a frozen LLM with audio: speech encoders and connectors, distillation data, the distillation loop and its evaluation."""
