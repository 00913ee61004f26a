"""dflbench: benchmark loss functions for imbalanced classification, per class.

The seed loss is the Dual Focal Loss of Hossain, Betts and Paplinski (Neurocomputing 462, 2021).
"""

__version__ = "0.2.0.dev0"
