"""QT networks and their classical twins: feedforward, recurrent, Bayesian, echo state."""

from .activations import ACTIVATIONS, make_activation
from .bayesian import BayesianLinear, BayesianNet, bayesian_epoch, train_bayesian
from .esn import EchoStateNetwork
from .feedforward import FeedForward, accuracy, epochs_to, train_classifier, train_epoch
from .recurrent import RecurrentClassifier, sequence_accuracy, sequence_epoch, train_sequences

__all__ = ["ACTIVATIONS", "make_activation", "FeedForward", "train_classifier", "train_epoch", "accuracy", "epochs_to",
           "RecurrentClassifier", "train_sequences", "sequence_accuracy", "BayesianLinear", "BayesianNet",
           "train_bayesian", "bayesian_epoch", "sequence_epoch", "EchoStateNetwork"]
