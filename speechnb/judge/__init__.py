"""The LLM judge, shared by both research lines: rubrics, engines, the listening judge, verdicts, calibration and its CLI."""
