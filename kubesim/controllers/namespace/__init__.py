"""The namespace controller: deletes a Terminating namespace's content, then the namespace."""
