def inner():
    raise ValueError("boom from the target")


def outer():
    return inner()


if __name__ == "__main__":
    print("before the error")
    outer()
