// Activations
