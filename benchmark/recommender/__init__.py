"""SMTPO's reasoning recommender: prompt, output parser, rewards, SFT data and training, systems."""
