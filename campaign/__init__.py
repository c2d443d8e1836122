"""Gongjian: the 百日攻坚 campaign application package."""
