"""Speechworthy answers: instructions a person would say, prompting and generation, speech metrics, preferences, the reward model, DPO and RL, listening studies."""
