"""Chemistry, the only package that imports RDKit.

Identity layers, transforms, similarity and depiction.
"""
