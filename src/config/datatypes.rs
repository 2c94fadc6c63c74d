//! Value datatypes of the config file.
