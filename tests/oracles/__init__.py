"""Independent implementations the tests compare entitle's with."""
